# A client that goes away while its request is suspended: the module sees
# it in its next callback (a failed write or c->aborted), stops writing and
# still finishes the request, so that the request is logged, the socket
# closed and its descriptor released.  Checked through the access log,
# the server port's sockets in /proc/net/tcp (no CLOSE_WAIT left) and the
# open descriptors of the children in /proc/PID/fd.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use Time::HiRes qw(time);

# [name, wait for the first chunk?, how the client leaves]: a reset
# leaves no trace in /proc/net/tcp, a FIN leaves CLOSE_WAIT until the
# server closes its side.
my @cases = (
    ['reset after the first chunk', 1, 'abort'],
    ['FIN before any response',     0, 'disconnect'],
);

my $tests = 3 * @cases + 3;
$tests++ if expect_async();
plan tests => $tests, need_module('mod_suspend_test');

# The baseline: a quiet server, with no connection of earlier tests.
my $quiet = quiet_server();

my $tag = "abort$$";
my $n = 0;
for my $case (@cases) {
    my ($name, $wait_body, $leave) = @$case;
    $n++;
    my $got;
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request(GET => suspend_url(steps => 20, delay => 200,
                                            size => 1000, tag => "$tag-$n"));
        my $t_sent = $c->{t_sent};
        if ($wait_body) {
            my $deadline = time + 5;
            while (length $c->{buf} < 200 && defined $c->fill($deadline)) {
                last if $c->{eof};
            }
            $got = $c->{buf} =~ m{^HTTP/1\.1 200 } ? 1 : 0;
        }
        else {
            # The first chunk, with the headers, leaves after 200 ms.
            # On a loaded machine this process may look only later:
            # bytes seen 0.15 s or more after the request are not early.
            my $quiet = $c->quiet_for(0.1);
            my $seen = time - $t_sent;
            t_debug(sprintf 'first bytes seen after %.3f s', $seen)
                unless $quiet;
            $got = $quiet || $seen >= 0.15 ? 1 : 0;
        }
        $c->$leave;
    };
    t_debug("error: $@") if $@;
    ok t_cmp($got, 1, $wait_body ? "$name: response started"
                                 : "$name: nothing before the first chunk was due");

    my @lines = wait_for(10, sub {
        my @l = log_lines(suspend_log(), qr/tag=\Q$tag-$n\E\b/);
        @l ? \@l : undef;
    });
    my $line = $lines[0] ? $lines[0][0] : '';
    t_debug("log line: $line");
    ok t_cmp($line ne '' ? 1 : 0, 1, "$name: request logged");
    ok t_cmp((split ' ', $line)[2] || '', 'X',
             "$name: logged as aborted (%X)");
}

server_clean_ok($quiet);

my $r = raw_get('/connid');
ok t_cmp($r->{status}, 200, 'server still serves');
