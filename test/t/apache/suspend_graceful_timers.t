# Graceful restarts while suspended requests have timers falling due
# through the restart instant and all through the drain: no timer may be
# lost, so every request completes byte for byte and every old child
# exits.  Four rounds.  On worker and prefork the handler sleeps instead
# of suspending; the requests must complete there too.
#
# What it hits (issue 14): during a graceful drain a worker leaves as
# soon as the child has more workers than connections, and the next one
# to look is often a worker that has just run a timer.  It used to leave
# still counted as a timer runner, and the listener then woke nobody for
# the timers queued after it: the request hung and the child never
# exited.  Here the drain loses connections while timers keep running:
# "linger" connections got their whole response (Connection: close) but
# the client keeps its end open, so the server lingers on them until the
# dying child closes them (2 s, on the listener thread), while the
# "paced" requests re-arm every 10 to 17 ms, one timer about every 1.5 ms,
# for 3 to 5 s.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use Time::HiRes qw(time);

my $rounds = 4;
my $restart_at = 0.3;       # s after the paced requests are sent
my ($nlinger, $npaced) = (4, 8);
my ($steps, $size) = (300, 10);

plan tests => 5 * $rounds, need_module('mod_suspend_test');

my @paths = map {
    suspend_url(steps => $steps, size => $size, delay => 10 + $_)
} 0 .. $npaced - 1;
my $want = expected_body($steps, $size);
my $short = suspend_url(steps => 1, delay => 1, size => 10);

for my $round (1 .. $rounds) {
    my $up = wait_for(10, sub {
        my $x = raw_get('/connid', headers => [Connection => 'close']);
        $x->{status} == 200 ? 1 : 0;
    });

    # The linger connections: whole response, then our end stays open.
    my @linger;
    for (1 .. $nlinger) {
        my $r = eval {
            my $c = SuspendTest::Conn->new;
            $c->send_request(GET => $short, headers => [Connection => 'close']);
            my $x = $c->read_response(timeout => 10);
            $x->{conn} = $c;
            $x;
        };
        push @linger, $r if $r && $r->{status} == 200 && $r->{complete};
    }

    my (@old, $signalled);
    my $parent = parent_pid();
    my $t0 = time;
    my @res = parallel_get(\@paths, timeout => 15, at => [[$restart_at, sub {
        @old = child_pids();
        $signalled = $parent && kill('USR1', $parent);
    }]]);
    t_debug(sprintf "round %d: restart of %s (children %s), paced requests "
            . "done after %.3f s", $round, $parent || '?', join(',', @old),
            time - $t0);
    $_->{conn}->disconnect for @linger;

    ok t_cmp($up && $signalled ? 1 : 0, 1,
             "round $round: server up, graceful restart signalled");
    ok t_cmp(scalar(@linger), $nlinger,
             "round $round: $nlinger short requests answered first");

    my @bad;
    for my $i (0 .. $#res) {
        my $r = $res[$i];
        next if $r->{status} == 200 && $r->{complete}
            && $r->{body} eq $want
            && ($r->{headers}{'x-suspend-mode'} || '') eq expected_mode();
        push @bad, $i;
        t_debug(sprintf "round %d request %d: status %s, %d of %d bytes%s",
                $round, $i, $r->{status} || 0, length($r->{body} || ''),
                length $want, $r->{error} ? ", $r->{error}" : '');
    }
    ok t_cmp(scalar(@res), $npaced, "round $round: $npaced paced requests sent");
    ok t_cmp(scalar(@bad), 0,
             "round $round: every paced request complete and exact");

    my %old = map { $_ => 1 } @old;
    my $gone = @old && wait_for(20, sub {
        !grep { $old{$_} } child_pids();
    });
    ok t_cmp($gone ? 1 : 0, 1,
             "round $round: old children " . join(',', @old) . " exited");
}
