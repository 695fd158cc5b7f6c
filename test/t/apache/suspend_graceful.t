# Graceful restart (SIGUSR1 to the parent) while a request is in flight
# (suspended on event, in its handler elsewhere): the request completes
# byte for byte, the child that served it exits afterwards, and the new
# generation serves requests.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

plan tests => 7, need_module('mod_suspend_test');

my %p = (steps => 6, delay => 500, size => 2000);
my ($r, $pid, $signalled);
eval {
    my $c = SuspendTest::Conn->new;
    $c->send_request(GET => suspend_url(%p));
    # Wait for the headers (they come with the first chunk) to learn
    # which child serves the request, then restart with the rest of the
    # body still to come.
    my $deadline = time + 5;
    while (index($c->{buf}, "\r\n\r\n") < 0) {
        last unless $c->fill($deadline);
    }
    ($pid) = $c->{buf} =~ /^X-Suspend-Pid: (\d+)/mi;
    my $parent = parent_pid();
    t_debug("request served by child $pid; graceful restart of $parent");
    $signalled = $parent && kill('USR1', $parent);
    $r = $c->read_response(timeout => 15);
    $c->disconnect;
};
t_debug("error: $@") if $@;

ok t_cmp($signalled ? 1 : 0, 1, 'graceful restart signalled mid-request');
ok t_cmp($r && $r->{status}, 200, 'in-flight request: status');
ok t_cmp($r && $r->{headers}{'x-suspend-mode'}, expected_mode(),
         'in-flight request: X-Suspend-Mode');
ok body_matches($r && $r->{body}, expected_body($p{steps}, $p{size}),
                'in-flight request: body complete and exact');

my $gone = $pid && wait_for(15, sub { !grep { $_ == $pid } child_pids() });
ok t_cmp($gone ? 1 : 0, 1, "old child " . ($pid || '?') . " exited");

# The new generation is up and serving.
my $id = wait_for(10, sub {
    my $x = raw_get('/connid', headers => [Connection => 'close']);
    $x->{status} == 200 ? $x : undef;
});
my ($new_pid) = ($id && $id->{body} || '') =~ /pid=(\d+)/;
ok t_cmp(defined $new_pid && $new_pid != ($pid || 0) ? 1 : 0, 1,
         'served by a new child afterwards');
my $again = raw_get(suspend_url(steps => 2, delay => 100, size => 10));
ok body_matches($again->{body}, expected_body(2, 10),
                'suspended request after the restart');
