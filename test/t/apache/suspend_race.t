# Zero-delay timers: the callback may run, finish the request and resume
# the connection while the handler's thread is still on its way back to
# the MPM after returning SUSPENDED.  Many such requests, in parallel and
# back to back on kept-alive connections, must all complete exactly.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

plan tests => 5, need_module('mod_suspend_test');

# 200 connections at once, one request each.
{
    my @urls = map { suspend_url(steps => 1 + $_ % 3, delay => 0,
                                 size => 50, tag => $_) } 1 .. 200;
    my @res = parallel_get(\@urls, timeout => 60);
    my $ok = grep {
        my ($steps) = $urls[$_] =~ /steps=(\d+)/;
        $res[$_]{status} == 200 && $res[$_]{complete}
            && $res[$_]{body} eq expected_body($steps, 50)
    } 0 .. $#urls;
    ok t_cmp($ok, 200, '200 parallel zero-delay requests exact');
    ok t_cmp(scalar(grep { ($_->{headers}{'x-suspend-mode'} || '')
                           eq expected_mode() } @res), 200,
             'all served ' . expected_mode());
}

# 4 connections, 50 requests each, back to back.
{
    my ($ok, $kept) = (0, 0);
    for my $conn (1 .. 4) {
        my $c = eval { SuspendTest::Conn->new } or next;
        for my $i (1 .. 50) {
            my $steps = 1 + $i % 2;
            my $r = eval {
                $c->send_request(GET => suspend_url(steps => $steps,
                                                    delay => 0, size => 20,
                                                    i => $i));
                $c->read_response(timeout => 10);
            } or last;
            last unless $r->{status} == 200;
            $ok++ if $r->{complete}
                && $r->{body} eq expected_body($steps, 20);
        }
        my $r = eval {
            $c->send_request(GET => '/connid');
            $c->read_response(timeout => 10);
        };
        $kept++ if $r && $r->{body} =~ /keepalives=50\b/;
        $c->disconnect;
    }
    ok t_cmp($ok, 200, '200 zero-delay requests on kept-alive connections');
    ok t_cmp($kept, 4, 'each connection served all its requests');
}

# Still healthy.
{
    my $r = raw_get(suspend_url(steps => 2, delay => 10, size => 10));
    ok body_matches($r->{body}, expected_body(2, 10), 'server still serves');
}
