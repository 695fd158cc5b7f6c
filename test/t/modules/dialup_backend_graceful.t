# A graceful restart (SIGUSR1 to the parent) in the middle of paced
# responses that other handlers made (issue 11): 200 KB at 160k (20,000
# bytes a second, about 10 s), one proxied to the backend virtual host of
# t/conf/dialup_backend.conf.in (/dialup/backend/fast/) and one from a
# CGI (/dialup/backend/cgi/fast/), both held by mod_dialup (the default
# DialupBufferMemory in memory, the rest in the buffer file) long before
# the restart.  The restart
# comes about 1 s into them.  Checked: both complete, byte-exact and
# paced; the old children exit after them; the new generation serves,
# proxied and paced too; no error in the error log meanwhile.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use Time::HiRes qw(time sleep);

plan tests => 10, need need_module('dialup'), need_module('proxy_http'),
                       need_cgi();

my $docroot = Apache::Test::vars('documentroot');
my $error_log = Apache::Test::vars('t_logs') . '/error_log';
my $rate = 160_000;
my $size = 200_000;
my $data = content($size);
my $small = content(20_000);

t_write_file("$docroot/dialup/backend/origin/200k.txt", $data);
t_write_file("$docroot/dialup/backend/origin/20k.txt", $small);
my $cgi = "$docroot/dialup/backend/cgi/fast/200k.cgi";
t_write_file($cgi, <<"EOF");
#!$^X
# Written by t/modules/dialup_backend_graceful.t: 200 KB from a CGI.
open my \$f, '<', "\$ENV{DOCUMENT_ROOT}/dialup/backend/origin/200k.txt"
    or die "200k.txt: \$!";
binmode \$f;
binmode STDOUT;
local \$/;
print "Content-Type: text/plain\\n\\n", <\$f>;
EOF
chmod 0755, $cgi;

my $log_start = -s $error_log || 0;
my (@old, $signalled);
my @names = ('proxied', 'CGI');
my @res = parallel_get(
    ["/dialup/backend/fast/200k.txt?graceful$$",
     "/dialup/backend/cgi/fast/200k.cgi?graceful$$"],
    timeout => 40,
    at => [[1.0, sub {
        @old = child_pids();
        my $parent = parent_pid();
        t_debug("old children: @old; graceful restart of " . ($parent || '?'));
        $signalled = $parent && kill('USR1', $parent);
    }]]);
ok t_cmp($signalled ? 1 : 0, 1, 'graceful restart signalled about 1 s in');

for my $i (0, 1) {
    my $r = $res[$i];
    my $name = "$names[$i] across the restart";
    t_debug("$name: " . ($r->{error} || 'complete') . ', done after '
            . ($r->{done} // 'never') . ' s');
    ok t_cmp($r->{status} == 200 && $r->{complete}
             && body_matches($r->{body}, $data, $name) ? 1 : 0, 1,
             "$name: 200, body exact (got $r->{status}, "
             . length($r->{body}) . ' bytes'
             . ($r->{error} ? ", $r->{error}" : '') . ')');
    paced_ok({ %$r, elapsed => $r->{done} }, $name, $rate);
}

my $gone = @old && wait_for(20, sub {
    my %now = map { $_ => 1 } child_pids();
    !grep { $now{$_} } @old;
});
ok t_cmp($gone ? 1 : 0, 1, 'old children (' . join(' ', @old) . ') exited');

# The new generation: up, proxying and pacing.
my $h = wait_for(10, sub {
    my $x = raw_get('/health.txt', timeout => 5,
                    headers => [Connection => 'close']);
    $x->{status} == 200 && $x->{body} eq "healthy\n";
});
ok t_cmp($h ? 1 : 0, 1, 'the new children serve');
my $r = raw_get('/dialup/backend/fast/20k.txt', timeout => 10,
                headers => [Connection => 'close']);
served_ok($r, 'proxied after the restart', $small, $rate);

# "Scoreboard is full, not at MaxRequestWorkers" (worker's AH00288,
# event's AH03490) is expected: with ServerLimit 2 (t/conf/httpd.conf.in)
# old children serving the downloads keep both slots until they end, and
# the new ones wait.
my @err = grep { !/AH00288:|AH03490:/ }
          error_log_since($error_log, $log_start,
                          qr/\[[a-z_0-9]+:(?:error|crit|alert|emerg)\]/);
ok t_cmp(scalar @err, 0, 'no error in the error log meanwhile'
         . (@err ? ": $err[0]" : ''));
