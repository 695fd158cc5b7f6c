# 500 requests suspended at once on 2 children x 10 threads: a suspended
# request holds no thread, so all of them finish in about one step time
# (served one per thread they would take 500 / 20 x 2 s = 50 s).  Done
# twice: with this script's own non-blocking client (checks every body)
# and with h2load over HTTP/1.1.  Event only.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use Time::HiRes qw(time);

my $n = 500;
my $delay = 2000;               # one step, ms
my $bound = 3 * $delay / 1000;  # generous: three step times
my $h2load = `sh -c 'command -v h2load' 2>/dev/null`;
chomp $h2load;

plan tests => 5, need need_module('mod_suspend_test'),
                   need_apache_mpm('event');

# From a quiet server: no worker or connection of an earlier test.
quiet_server();

my $mid;
my $t0 = time;
my @res = parallel_get(
    [map { suspend_url(steps => 1, delay => $delay, size => 16, tag => $_) }
         1 .. $n],
    timeout => 120,
    at => [[$delay / 2000, sub { $mid = status_auto()->{ConnsAsyncSuspended} }]]);
my $took = time - $t0;
my $last = 0;
for (@res) {
    $last = $_->{done} if $_->{done} && $_->{done} > $last;
}
my $ok = grep { $_->{status} == 200 && $_->{complete}
                && $_->{body} eq chunk(1, 16) } @res;
my %err;
$err{ $_->{error} || "status $_->{status}" }++
    for grep { !($_->{status} == 200 && $_->{complete}) } @res;
t_debug(sprintf "%d of %d exact, last done after %.3f s, %s suspended at "
        . "%.1f s; errors: %s", $ok, $n, $last,
        defined $mid ? $mid : 'unknown', $delay / 2000,
        join(', ', map { "$_ x$err{$_}" } sort keys %err) || 'none');

ok t_cmp($ok, $n, "$n concurrent suspended requests, bodies exact");
ok t_cmp($last > 0 && $last <= $bound ? 1 : 0, 1,
         sprintf "all finished within %.1f s (took %.3f s)", $bound, $last);

if ($h2load) {
    my $url = 'http://' . host() . ':' . port()
            . suspend_url(steps => 1, delay => $delay, size => 16);
    my $cmd = "$h2load --h1 -n $n -c $n -m 1 -T 60 '$url' 2>&1";
    t_debug($cmd);
    my $out = `$cmd`;
    t_debug($out);
    my ($succeeded) = $out =~ /(\d+) succeeded/;
    my ($twoxx) = $out =~ /status codes:\s*(\d+) 2xx/;
    my ($secs, $unit) = $out =~ /finished in ([\d.]+)(m?s)/;
    $secs /= 1000 if defined $unit && $unit eq 'ms';
    ok t_cmp($succeeded, $n, "h2load: $n succeeded");
    ok t_cmp($twoxx, $n, "h2load: $n 2xx");
    ok t_cmp(defined $secs && $secs <= $bound ? 1 : 0, 1,
             sprintf "h2load: finished within %.1f s (took %s s)", $bound,
             defined $secs ? $secs : 'unknown');
}
else {
    skip 'h2load not installed' for 1 .. 3;
}
