# Timers fire without any other traffic: a lone suspended request takes
# its steps times its delay, neither much less (timers firing early) nor
# much more (the listener sleeping until unrelated traffic wakes it up).
# Nothing else talks to the server during these requests.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use Time::HiRes qw(sleep);

# [steps, delay ms]; bounds: at least 90% of the nominal time, at most
# the nominal time plus 1.6 s.
my @cases = ([3, 300], [1, 1500], [10, 100]);

plan tests => 4 * @cases, need_module('mod_suspend_test');

my $quiet;
for my $case (@cases) {
    my ($steps, $delay) = @$case;
    my $nominal = $steps * $delay / 1000;
    my $name = "$steps steps of $delay ms";

    # Let the server go idle: no request of an earlier test in flight
    # (when an earlier test left it busy, that is waited for, and said,
    # once), then half a second with nothing at all, not even the last
    # status request's connection, that could wake the listener.
    $quiet = quiet_server($quiet ? 10 : 30) if !$quiet || $quiet->{quiet};
    sleep 0.5;
    my $r = eval {
        raw_get(suspend_url(steps => $steps, delay => $delay, size => 20),
                headers => [Connection => 'close'], timeout => 15);
    };
    ok t_cmp($r->{headers}{'x-suspend-mode'}, expected_mode(),
             "$name: X-Suspend-Mode");
    ok body_matches($r->{body}, expected_body($steps, 20), $name);
    my $elapsed = $r->{elapsed} || 0;
    t_debug(sprintf "%s: %.3f s (nominal %.3f s)", $name, $elapsed,
            $nominal);
    ok t_cmp($elapsed >= 0.9 * $nominal ? 1 : 0, 1,
             "$name: not faster than the timers (" . sprintf('%.3f', $elapsed)
             . " s >= " . 0.9 * $nominal . " s)");
    ok t_cmp($elapsed <= $nominal + 1.6 ? 1 : 0, 1,
             "$name: timers fired on time (" . sprintf('%.3f', $elapsed)
             . " s <= " . ($nominal + 1.6) . " s)");
}
