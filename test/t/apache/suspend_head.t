# HEAD on a suspending URL: the headers arrive within the request's
# suspended time (not only when a timeout or other traffic wakes the
# server), no body follows, and the connection serves the next request.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

my @cases = (
    ['HEAD', {steps => 3, delay => 300, size => 1000}],
    ['HEAD, chunked', {steps => 2, delay => 200, size => 100, cl => 0}],
    ['HEAD, no step', {steps => 0, delay => 200, size => 100}],
);

plan tests => 6 * @cases, need_module('mod_suspend_test');

for my $case (@cases) {
    my ($name, $p) = @$case;
    my $nominal = ($p->{steps} || 1) * $p->{delay} / 1000;
    my ($r, $quiet, $next);
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request(HEAD => suspend_url(%$p));
        $r = $c->read_response(head => 1, timeout => $nominal + 10);
        $quiet = $c->quiet_for(0.5);
        $c->send_request(GET => '/connid');
        $next = $c->read_response;
        $c->disconnect;
    };
    t_debug("error: $@") if $@;
    $r ||= {};
    ok t_cmp($r->{status}, 200, "$name: status");
    ok t_cmp($r->{headers}{'x-suspend-mode'}, expected_mode(),
             "$name: X-Suspend-Mode");
    if ($p->{steps} * $p->{size} == 0) {
        # httpd never sends "Content-Length: 0" for HEAD (http_filters.c).
        ok t_cmp($r->{headers}{'content-length'}, undef,
                 "$name: no Content-Length: 0");
    }
    elsif ($p->{cl} || !exists $p->{cl}) {
        ok t_cmp($r->{headers}{'content-length'},
                 $p->{steps} * $p->{size}, "$name: Content-Length as GET");
    }
    else {
        ok t_cmp($r->{headers}{'content-length'}, undef,
                 "$name: no Content-Length");
    }
    my $t = $r->{t_headers};
    ok t_cmp(defined $t && $t <= $nominal + 2 ? 1 : 0, 1,
             "$name: headers within " . ($nominal + 2) . " s (took "
             . (defined $t ? sprintf('%.3f', $t) : 'forever') . ")");
    ok t_cmp($quiet, 1, "$name: no body bytes after the headers");
    ok t_cmp($next && $next->{status}, 200,
             "$name: next request on the connection");
}
