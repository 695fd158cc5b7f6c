# A full table of lines (issue 12): t/conf/dialup_line.conf.in sets
# "DialupLines 8" for the whole server.  Ten clients (X-Dialup-Client
# table-0 .. table-9, in dialup/line/keyed/ at 160k) download two 40 KB
# files each, all 20 at once: at most 8 of them get a line (fewer when
# lines that earlier files used are still kept for their clients); the
# others, at least 2, are paced per request.
#
# Checked: all 20 exact; every request logged (%{dialup-line}n) with its
# client's key or "per-request", both of a client the same way; at most
# 8 clients with a line, at least 2 without; a client with a line takes
# about twice as long for each of its two (they share 20,000 bytes a
# second: 4.1 s) as one without (each at the full rate: 2 s); the error
# log has the tagged warning "line table full" at least once and at most
# once per child that paced a client per request (not once per request).
#
# Prefork first gets 20 processes (20 connections held at once): the
# requests must not wait for it to fork.  Worker's 20 threads are all
# held by the downloads, so the server must be quiet first.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;

plan tests => 9, need need_module('dialup'), need_module('suspend_test');

my $docroot = Apache::Test::vars('documentroot');
my $error_log = Apache::Test::vars('t_logs') . '/error_log';
my $Bps = 20_000;
my $clients = 10;
my $lines = 8;
my $data = content(40_000);
t_write_file("$docroot/dialup/line/keyed/table40k.txt", $data);
my $tag = "ltable$$";

quiet_server();
if (mpm() eq 'prefork') {
    my @c = connid_conns(20);
    t_debug('prefork: ' . @c . ' connections answered at once, in '
            . scalar(keys %{{ map { $_->[1] => 1 } @c }}) . ' processes');
    $_->[0]->disconnect for @c;
}

my $log_start = -s $error_log || 0;
my @res = many_get([map {
    my $k = $_ >> 1;
    { path => "/dialup/line/keyed/table40k.txt?$tag-$k-" . ($_ & 1),
      name => "table-$k #" . ($_ & 1),
      headers => ['X-Dialup-Client' => "table-$k"] }
} 0 .. 2 * $clients - 1], timeout => 60);

ok t_cmp(scalar(grep { $_->{status} == 200 && $_->{complete}
                       && body_matches($_->{body}, $data, $_->{name}) } @res),
         2 * $clients, 2 * $clients . ' downloads: 200, bodies exact');

# The clients with a line and those without, from the access log.
my @log = line_log_of(qr/\?\Q$tag\E-/, 2 * $clients);
my %how;
for my $e (@log) {
    my ($k) = $e->{uri} =~ /-(\d+)-\d$/ or next;
    $how{$k}{ $e->{line} eq 'per-request' ? 'per-request'
              : $e->{line} eq "table-$k" ? 'line' : "other: $e->{line}" }++;
}
my (@with, @without, @odd);
for my $k (0 .. $clients - 1) {
    my $h = join ' ', map { "$_ x $how{$k}{$_}" } sort keys %{ $how{$k} || {} };
    if ($h eq 'line x 2') {
        push @with, $k;
    }
    elsif ($h eq 'per-request x 2') {
        push @without, $k;
    }
    else {
        push @odd, "table-$k: " . ($h || 'not logged');
    }
}
t_debug("clients with a line: @with; without: @without");
ok t_cmp(join('; ', @odd), '', 'each client\'s two requests logged with its '
         . 'key or both "per-request"');
ok t_cmp(@with <= $lines ? 1 : 0, 1,
         "at most $lines clients with a line (" . @with . ')');
ok t_cmp(@without >= $clients - $lines ? 1 : 0, 1,
         'at least ' . ($clients - $lines) . ' clients paced per request ('
         . @without . ')');
# Earlier files leave at most 7 lines kept for their clients (see
# t/conf/dialup_line.conf.in): some client here gets one.
ok t_cmp(@with >= 1 ? 1 : 0, 1, 'some client with a line');

# Each download of a client without a line at the full rate, each of one
# with a line at half of it.
my $one = wire($res[0]) / $Bps;
my %res_of;
for my $r (@res) {
    my ($k) = $r->{name} =~ /^table-(\d+)/;
    push @{ $res_of{$k} }, $r;
}
my @slow = map { sprintf 'table-%d %s s', $_->[0], $_->[1] }
           grep { !defined $_->[1] || $_->[1] > 1.3 * $one + 0.5 }
           map { my $k = $_; map { [$k, $_->{elapsed}] } @{ $res_of{$k} } }
           @without;
ok t_cmp(@without && !@slow ? 1 : 0, 1,
         sprintf('without a line: each at the full rate, at most %.2f s',
                 1.3 * $one + 0.5) . (@slow ? " (@slow)" : ''));
my @fast = map { sprintf 'table-%d %s s', $_->[0], $_->[1] // 'none' }
           grep { !defined $_->[1] || $_->[1] < 0.8 * 2 * $one }
           map { my $k = $_; map { [$k, $_->{elapsed}] } @{ $res_of{$k} } }
           @with;
ok t_cmp(@with && !@fast ? 1 : 0, 1,
         sprintf('with a line: two on it, each at least %.2f s',
                 0.8 * 2 * $one) . (@fast ? " (@fast)" : ''));

# The warning: tagged, at warn level, once per child that met the full
# table (not once per request).
my @warn = error_log_since($error_log, $log_start, qr/line table full/);
my %pids = map { $_->{pid} => 1 }
           grep { $_->{line} eq 'per-request' } @log;
ok t_cmp(@warn >= 1 && @warn <= keys(%pids) ? 1 : 0, 1,
         'error log: "line table full" ' . @warn . ' time(s), from 1 to '
         . 'once per child that paced per request (' . keys(%pids) . ')');
ok t_cmp(@warn && !(grep { !/\[dialup:warn\].* [A-Z]+\d+: / } @warn) ? 1 : 0,
         1, 'the warning is tagged, at warn level');
