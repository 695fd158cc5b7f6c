# The lines survive a graceful restart (issue 12): the table lives in
# memory that the parent made, which the new children find again.
# dialup/line/shared/ (t/conf/dialup_line.conf.in: 160k, 20,000 bytes a
# second, one line per client address).
#
# A downloads 200 KB (10 s alone); 1 s in, a graceful restart (SIGUSR1
# to the parent); once a new child serves, B downloads 40 KB from the
# same address.  B shares the line with A, which an old child still
# paces: B takes about twice its time alone (at least 1.6 times; alone
# it would take 2 s).  Checked too: both exact, B served by a new child
# (its %P in the access log), A's and B's %{dialup-line}n the address,
# the old children gone after A, no error logged.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use Time::HiRes qw(time sleep);

plan tests => 9, need need_module('dialup'), need_module('suspend_test');

my $docroot = Apache::Test::vars('documentroot');
my $error_log = Apache::Test::vars('t_logs') . '/error_log';
my $Bps = 20_000;
my $adata = content(200_000);
my $bdata = content(40_000);
t_write_file("$docroot/dialup/line/shared/200k.txt", $adata);
t_write_file("$docroot/dialup/line/shared/40k.txt", $bdata);
my $tag = "lgraceful$$";

my $log_start = -s $error_log || 0;
my $m = DialupTest::Many->new(timeout => 60);
my $a = $m->add(path => "/dialup/line/shared/200k.txt?$tag-a", name => 'A');
# A is being paced.
$m->pump(until => sub { defined $a->{t_first} && time - $m->{t0} >= 1 });
my @old = child_pids();
my $parent = parent_pid();
t_debug("old children: @old; graceful restart of " . ($parent || '?'));
my $signalled = !$a->{finished} && $parent && kill('USR1', $parent);
ok t_cmp($signalled ? 1 : 0, 1, 'graceful restart while A downloads');

# Until a child of the new generation answers (A read meanwhile).
my %old = map { $_ => 1 } @old;
my ($next, $new_pid) = (0);
$m->pump(until => sub {
    return 1 if $new_pid;
    return 0 if time < $next;
    $next = time + 0.25;
    my $r = raw_get('/connid', timeout => 2, quiet => 1,
                    headers => [Connection => 'close']);
    $new_pid = $1 if $r->{status} == 200 && $r->{body} =~ /^pid=(\d+) /
                     && !$old{$1};
    return $new_pid;
});
t_debug('a new child (' . ($new_pid || 'none') . ') answers after '
        . sprintf('%.2f s', time - $m->{t0}));

my $b = $m->add(path => "/dialup/line/shared/40k.txt?$tag-b", name => 'B');
$m->pump;
t_debug(sprintf 'A done after %s s, B from %.2f to %s s',
        $a->{done} // '-', $b->{start} // 0, $b->{done} // '-');

ok t_cmp($a->{status} == 200 && $a->{complete}
         && body_matches($a->{body}, $adata, 'A') ? 1 : 0, 1,
         'A across the restart: 200, body exact');
ok t_cmp($b->{status} == 200 && $b->{complete}
         && body_matches($b->{body}, $bdata, 'B') ? 1 : 0, 1,
         'B after the restart: 200, body exact');

my $alone = wire($b) / $Bps;
if ($new_pid && $a->{done} && $b->{done} && $a->{done} > $b->{done}) {
    within_ok($b->{elapsed}, 1.6 * $alone, 2.5 * $alone + 1,
              sprintf 'B shares the line with A (alone: %.2f s)', $alone);
}
else {
    skip 'A was not in flight all through B (A done after '
         . ($a->{done} // '-') . ' s, B after ' . ($b->{done} // '-')
         . ' s): nothing to share';
}

my %log = map { $_->{uri} =~ /-(a|b)$/ ? ($1 => $_) : () }
          line_log_of(qr/\?\Q$tag\E-/, 2);
my $bpid = $log{b} ? $log{b}{pid} : 'no log line';
ok t_cmp($bpid =~ /^\d+$/ && !$old{$bpid} ? 1 : 0, 1,
         "B served by a new child (pid $bpid; old ones: @old)");
ok t_cmp(join(' ', map { $log{$_} ? $log{$_}{line} : '-' } qw(a b)),
         '127.0.0.1 127.0.0.1', '%{dialup-line}n of A and B: the address');

my $gone = @old && wait_for(20, sub {
    my %now = map { $_ => 1 } child_pids();
    !grep { $now{$_} } @old;
});
ok t_cmp($gone ? 1 : 0, 1, 'old children (' . join(' ', @old) . ') exited');
my $h = raw_get('/health.txt', timeout => 10,
                headers => [Connection => 'close']);
ok t_cmp("$h->{status} $h->{body}", "200 healthy\n", 'the server serves on');

# Scoreboard full (worker's AH00288, event's AH03490) is expected while
# an old child keeps its slot (ServerLimit 2).
my @err = grep { !/AH00288:|AH03490:/ }
          error_log_since($error_log, $log_start,
                          qr/\[[a-z_0-9]+:(?:error|crit|alert|emerg)\]/);
ok t_cmp(scalar @err, 0, 'no error in the error log meanwhile'
         . (@err ? ": $err[0]" : ''));
