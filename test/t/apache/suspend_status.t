# mod_status reports suspended connections: "ConnsAsyncSuspended: N" in
# /server-status?auto counts the requests suspended right now, and drops
# back to 0 when they are finished.  Event only (the only MPM that
# suspends).  The counts are checked from a quiet server; when an earlier
# test left one that is not, they are skipped (quiet_server() says why).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

plan tests => 5, need need_module('mod_suspend_test'), need_module('status'),
                   need_apache_mpm('event');

my $n = 20;
my $quiet = quiet_server();
my $before = status_auto();
t_debug('before: ' . join ', ', map { "$_: $before->{$_}" }
                                grep { /^Conns/ } sort keys %$before);
ok t_cmp(exists $before->{ConnsAsyncSuspended} ? 1 : 0, 1,
         'server-status?auto has a ConnsAsyncSuspended line');

# The requests wait 3 s: looked at every 0.25 s from 0.5 to 2.5 s, so
# that a loaded machine, slow to get all of them suspended, still shows
# them all at once.
my @during;
my @res = parallel_get(
    [map { suspend_url(steps => 1, delay => 3000, size => 10, tag => $_) }
         1 .. $n],
    timeout => 30,
    at => [map { [$_ / 4, sub {
                my $v = status_auto()->{ConnsAsyncSuspended};
                push @during, defined $v ? $v : -1;
            }] } 2 .. 10]);
my ($max) = sort { $b <=> $a } @during;
t_debug("ConnsAsyncSuspended while the requests wait: @during");
ok t_cmp(scalar(grep { $_->{complete} && $_->{body} eq chunk(1, 10) } @res),
         $n, 'all requests complete');
if ($quiet->{quiet}) {
    ok t_cmp($before->{ConnsAsyncSuspended}, 0, 'none suspended before');
    ok t_cmp($max, $n, "$n suspended while the requests wait (at most)");
    ok t_cmp(status_zero_within(20, 'ConnsAsyncSuspended'), 1,
             'none suspended after');
}
else {
    skip "server not quiet before the test ($quiet->{left})" for 1 .. 3;
}
