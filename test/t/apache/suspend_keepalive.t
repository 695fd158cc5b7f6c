# After a suspended request is finished the connection goes back to
# keep-alive: the same TCP connection, in the same child, serves the next
# requests (/connid reports the child's pid, the connection's remote port
# and how many requests the connection served before).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

plan tests => 13, need_module('mod_suspend_test');

sub connid {
    my $r = shift;
    return {} unless $r && $r->{status} == 200;
    return { $r->{body} =~ /(\w[\w-]*)=(\d+)/g };
}

my $c = eval { SuspendTest::Conn->new };
my ($first, @later);
if ($c) {
    eval {
        $c->send_request(GET => '/connid');
        $first = connid($c->read_response);

        # Two suspended requests back to back, each followed by /connid.
        for my $p ({steps => 2, delay => 100, size => 500},
                   {steps => 3, delay => 50, size => 33, cl => 0}) {
            $c->send_request(GET => suspend_url(%$p));
            my $r = $c->read_response;
            $c->send_request(GET => '/connid');
            push @later, [$r, $p, connid($c->read_response)];
        }
    };
    t_debug("error: $@") if $@;
}

t_debug("first /connid: " . join ' ', %{ $first || {} });
ok t_cmp($first->{keepalives}, 0, 'first request on the connection');
ok t_cmp($first->{'remote-port'}, $c ? $c->sockport : -1,
         'server sees our socket');

my $n = 1;
for my $l (@later) {
    my ($r, $p, $id) = @$l;
    my $name = "suspended request $n";
    ok t_cmp($r->{headers}{'x-suspend-mode'}, expected_mode(),
             "$name: X-Suspend-Mode");
    ok body_matches($r->{body}, expected_body($p->{steps}, $p->{size}),
                    $name);
    ok t_cmp($id->{pid}, $first->{pid}, "$name: same child afterwards");
    ok t_cmp($id->{'remote-port'}, $first->{'remote-port'},
             "$name: same connection afterwards");
    ok t_cmp($id->{keepalives}, 2 * $n,
             "$name: connection kept alive, request count");
    $n++;
}
ok t_cmp(scalar @later, 2, 'all requests answered');
