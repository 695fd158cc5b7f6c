# Bodies of suspended requests arrive exact and complete, in every framing
# (Content-Length, chunked, HTTP/1.0 close-delimited), and the module says
# it served them through SUSPENDED on event and synchronously elsewhere
# (AP_MPMQ_CAN_SUSPEND is 1 on the patched event MPM only).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

# [name, query parameters, HTTP version, expected framing]
my @cases = (
    ['three steps',         {steps => 3, delay => 50, size => 64},
     '1.1', 'length'],
    ['one step',            {steps => 1, delay => 50, size => 10},
     '1.1', 'length'],
    ['no step, empty body', {steps => 0, delay => 50, size => 10},
     '1.1', 'length'],
    ['large chunks',        {steps => 4, delay => 20, size => 100000},
     '1.1', 'length'],
    ['many small steps',    {steps => 40, delay => 5, size => 7},
     '1.1', 'length'],
    ['chunked',             {steps => 3, delay => 50, size => 300, cl => 0},
     '1.1', 'chunked'],
    ['HTTP/1.0',            {steps => 2, delay => 50, size => 100},
     '1.0', 'length'],
    ['HTTP/1.0 unframed',   {steps => 2, delay => 50, size => 100, cl => 0},
     '1.0', 'close'],
);

plan tests => 5 * @cases, need_module('mod_suspend_test');

t_debug('MPM ' . mpm() . ', expecting X-Suspend-Mode ' . expected_mode());

for my $case (@cases) {
    my ($name, $p, $version, $framing) = @$case;
    my $want = expected_body($p->{steps}, $p->{size});
    my $r = eval { raw_get(suspend_url(%$p), version => $version) };

    ok t_cmp($r->{status}, 200, "$name: status");
    ok t_cmp($r->{headers}{'x-suspend-mode'}, expected_mode(),
             "$name: X-Suspend-Mode");
    ok t_cmp($r->{error}, undef, "$name: response complete");
    ok body_matches($r->{body}, $want, $name);

    my $h = $r->{headers} || {};
    if ($framing eq 'length') {
        ok t_cmp($h->{'content-length'}, length $want,
                 "$name: Content-Length");
    }
    elsif ($framing eq 'chunked') {
        ok t_cmp($h->{'transfer-encoding'}, 'chunked',
                 "$name: Transfer-Encoding");
    }
    else {
        # No length known to an HTTP/1.0 client: closing ends the body.
        ok t_cmp($r->{eof}, 1, "$name: closed after the body");
    }
    $r->{conn}->disconnect if $r->{conn};
}
