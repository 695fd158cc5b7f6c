# A callback that fails: before any body (mode=error-first) the client
# gets a 500; after part of the body (mode=error-late) the connection is
# closed with the body cut short (no last-chunk when chunked).  Either
# way the failure is logged and the server goes on serving.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil qw(t_cmp t_debug t_start_error_log_watch
                        t_finish_error_log_watch);
use SuspendTest;

plan tests => 18, need_module('mod_suspend_test');

t_start_error_log_watch();

# error-first
{
    my $r = raw_get(suspend_url(steps => 3, delay => 100, size => 50,
                                mode => 'error-first'));
    ok t_cmp($r->{status}, 500, 'error-first: status');
    ok t_cmp($r->{headers}{'x-suspend-mode'}, expected_mode(),
             'error-first: X-Suspend-Mode');
    ok t_cmp($r->{body}, qr/Internal Server Error/,
             'error-first: the error page');
    ok t_cmp($r->{error}, undef, 'error-first: response complete');
    $r->{conn}->disconnect if $r->{conn};
}

# error-late, with Content-Length and chunked: 4 steps, the failure comes
# after ceil(4/2) = 2 chunks.
for my $cl (1, 0) {
    my $name = 'error-late, ' . ($cl ? 'Content-Length' : 'chunked');
    my $r = raw_get(suspend_url(steps => 4, delay => 100, size => 500,
                                mode => 'error-late', cl => $cl),
                    timeout => 10);
    ok t_cmp($r->{status}, 200, "$name: status");
    if ($cl) {
        ok t_cmp($r->{headers}{'content-length'}, 2000,
                 "$name: announced length");
    }
    else {
        ok t_cmp($r->{headers}{'transfer-encoding'}, 'chunked',
                 "$name: chunked");
    }
    ok body_matches($r->{body}, expected_body(2, 500),
                    "$name: the first two chunks, nothing more");
    ok t_cmp($r->{complete}, 0, "$name: body not complete");
    ok t_cmp($r->{eof}, 1, "$name: connection closed");
    $r->{conn}->disconnect if $r->{conn};
}

# Still healthy.
{
    my $r = raw_get(suspend_url(steps => 2, delay => 50, size => 99));
    ok body_matches($r->{body}, expected_body(2, 99),
                    'next request after the errors');
    $r->{conn}->disconnect if $r->{conn};
    $r = raw_get('/health.txt', headers => [Connection => 'close']);
    ok t_cmp($r->{body}, "healthy\n", 'static file after the errors');
}

# The failures were logged, with the module's tags.
my @log;
wait_for(5, sub {
    push @log, t_finish_error_log_watch();
    t_start_error_log_watch();
    (grep { /ST03/ } @log) && (grep { /ST02/ } @log) >= 2;
});
ok t_cmp(scalar(grep { /ST03/ } @log), 1, 'error-first logged once (ST03)');
ok t_cmp(scalar(grep { /ST02/ } @log), 2, 'error-late logged twice (ST02)');
