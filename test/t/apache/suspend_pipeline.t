# Pipelined requests, written in one go: the server must go on with the
# requests already read into its buffers after each suspended request is
# finished (no new data will wake it for them).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

my @sets = (
    ['two suspended, then /connid',
     [{steps => 2, delay => 200, size => 300},
      {steps => 1, delay => 100, size => 100, cl => 0}]],
    ['suspended then HEAD, then /connid',
     [{steps => 1, delay => 100, size => 10},
      {steps => 2, delay => 100, size => 10, head => 1}]],
    ['three zero-delay, then /connid',
     [{steps => 1, delay => 0, size => 5},
      {steps => 2, delay => 0, size => 5},
      {steps => 3, delay => 0, size => 5}]],
);

my $tests = 0;
$tests += 3 * @{ $_->[1] } + 3 for @sets;
plan tests => $tests, need_module('mod_suspend_test');

for my $set (@sets) {
    my ($name, $reqs) = @$set;
    my (@res, $id, $closed);
    eval {
        my $c = SuspendTest::Conn->new;
        my $text = '';
        for my $p (@$reqs) {
            my %q = %$p;
            my $method = delete $q{head} ? 'HEAD' : 'GET';
            $text .= $c->request_text($method, suspend_url(%q));
        }
        $text .= $c->request_text(GET => '/connid',
                                  headers => [Connection => 'close']);
        $c->send_raw($text);
        for my $p (@$reqs) {
            push @res, $c->read_response(head => $p->{head});
        }
        $id = $c->read_response;
        $closed = $c->closed_within(3);
    };
    t_debug("error: $@") if $@;

    my $n = 0;
    for my $p (@$reqs) {
        my $r = $res[$n++] || {};
        my $what = "$name: response $n";
        ok t_cmp($r->{status}, 200, "$what status");
        ok t_cmp($r->{headers} && $r->{headers}{'x-suspend-mode'},
                 expected_mode(), "$what X-Suspend-Mode");
        if ($p->{head}) {
            ok t_cmp($r->{body}, '', "$what no body");
        }
        else {
            ok body_matches($r->{body},
                            expected_body($p->{steps}, $p->{size}), $what);
        }
    }
    my ($k) = ($id && $id->{body} || '') =~ /keepalives=(\d+)/;
    ok t_cmp($id && $id->{status}, 200, "$name: /connid answered");
    ok t_cmp($k, scalar @$reqs, "$name: all on one connection");
    ok t_cmp($closed, 1, "$name: closed after 'Connection: close'");
}
