# Clients that go away in the middle of a paced download, and one that
# stops reading.
#
# A client gone (reset, or closed before the first pulse) is noticed at
# the next pulse (debug AH19103, with the client's address): the request
# ends long before its schedule would, is written to the access log, and
# its socket and file descriptors are released.  A client that takes no
# data is closed after Timeout (2 s in the mod_dialup virtual host of
# t/conf/dialup.conf.in).  Afterwards the server is healthy: nothing left
# in CLOSE_WAIT, the children's descriptors back to what they were, no
# suspended connection left (event), and it still serves.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use IO::Select ();
use IO::Socket::INET ();
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Time::HiRes qw(time);

# [name, body bytes to read first (0: leave before the first pulse), how
# the client leaves].  Closing with unread data sends a reset.
my @cases = (
    ['reset mid-download',           8_000, 'abort'],
    ['close mid-download',           8_000, 'disconnect'],
    ['close before the first pulse', 0,     'disconnect'],
);

my $tests = 5 * @cases + 7;
$tests++ if expect_async();
plan tests => $tests, need_module('dialup');

my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');
my $access_log = "$t_logs/access_log";
my $error_log = "$t_logs/error_log";
my $vport = define_port('DIALUP_VHOST_PORT');

# 4 s at 80 kbit/s (dialup/abort/).
my $size = 40_000;
my $secs = $size * 8 / 80_000;
t_write_file("$docroot/dialup/abort/big.txt", content($size));
# More than the socket buffers hold, at 80 Mbit/s (dialup/stall/).
my $stall_size = 16 * 1024 * 1024;
t_write_file("$docroot/dialup/stall/big.txt", content($stall_size));
my $stall_timeout = 2;          # Timeout in <VirtualHost mod_dialup>

# The access log line of the request whose query string is $tag.
sub access_line {
    my ($tag) = @_;
    my @l = log_lines($access_log, qr/ "GET [^ ]*\?\Q$tag\E HTTP/);
    return $l[0];
}

# The %X field of the request's line in dialup_log ("X": aborted), and
# its %B ("-" for none).
sub dialup_log_x {
    my ($tag) = @_;
    my @l = log_lines("$t_logs/dialup_log", qr/ "GET [^ ]*\?\Q$tag\E HTTP/);
    return @l && $l[0] =~ /^\d{3} (\S+) (\S) / ? ($2, $1) : ('no line', -1);
}

# The baseline: a quiet server, with no connection of earlier tests.
my $quiet = quiet_server();

my $n = 0;
for my $case (@cases) {
    my ($name, $wait_bytes, $leave) = @$case;
    my $tag = "abort$$-" . ++$n;
    my ($got, $port, $t_gone);
    eval {
        my $c = SuspendTest::Conn->new;
        $port = $c->sockport;
        $c->send_request(GET => "/dialup/abort/big.txt?$tag");
        my $t_sent = $c->{t_sent};
        if ($wait_bytes) {
            my $deadline = time + 5;
            while (length $c->{buf} < $wait_bytes
                   && defined $c->fill($deadline)) {
                last if $c->{eof};
            }
            $got = ($c->{buf} =~ m{^HTTP/1\.1 200 }
                    && length $c->{buf} >= $wait_bytes) ? 1 : 0;
        }
        else {
            # The headers leave with the first pulse, 200 ms after the
            # request arrived.  On a loaded machine this process may look
            # only later: bytes seen 0.15 s or more after the request are
            # not early.
            my $quiet = $c->quiet_for(0.05);
            my $seen = time - $t_sent;
            t_debug(sprintf 'first bytes seen after %.3f s', $seen)
                unless $quiet;
            $got = $quiet || $seen >= 0.15 ? 1 : 0;
        }
        $t_gone = time;
        $c->$leave;
    };
    t_debug("error: $@") if $@;
    $t_gone ||= time;
    ok t_cmp($got, 1, $wait_bytes ? "$name: download started"
                                  : "$name: nothing before the first pulse was due");

    my $line = wait_for(10, sub { access_line($tag) });
    my $after = time - $t_gone;
    t_debug("access log: " . ($line || 'none'));
    ok t_cmp($line && $after < $secs / 2 ? 1 : 0, 1,
             sprintf "%s: request logged %.1f s after the client left "
             . "(limit %.1f s; the download takes %.1f s)", $name, $after,
             $secs / 2, $secs);
    my ($x, $bytes) = dialup_log_x($tag);
    ok t_cmp($x, 'X', "$name: logged as aborted (%X in dialup_log)");
    # %B counts the body that reached the connection, not the whole file.
    $bytes = 0 if $bytes eq '-';
    ok t_cmp($bytes >= 0 && $bytes < $size ? 1 : 0, 1,
             "$name: %B is $bytes, less than the file's $size bytes");
    # "[remote ...]" where the message comes from a pulse without the
    # connection's scoreboard handle.
    my @debug = log_lines($error_log,
        qr/\[(?:client|remote) 127\.0\.0\.1:\Q$port\E\].*AH19103/);
    ok t_cmp(scalar @debug, 1, "$name: AH19103 for the client, once");
}

# A client that does not read: its socket buffers fill up and it takes no
# data for Timeout; then the server closes the connection.
my $tag = "stall$$";
my ($t_line, $received, $eof, $clen) = (undef, 0, 0);
eval {
    my $sock = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!\n";
    setsockopt($sock, SOL_SOCKET, SO_RCVBUF, 4096) or die "SO_RCVBUF: $!\n";
    connect($sock, Socket::pack_sockaddr_in($vport,
                                            Socket::inet_aton(host())))
        or die "connect to port $vport: $!\n";
    my $t0 = time;
    syswrite $sock, "GET /dialup/stall/big.txt?$tag HTTP/1.1\r\n"
                  . "Host: " . host() . ":$vport\r\n\r\n";
    my $line = wait_for($stall_timeout + 10, sub { access_line($tag) });
    $t_line = time - $t0 if $line;
    t_debug("access log after " . (defined $t_line ? sprintf('%.2f s', $t_line)
                                                   : 'never') . ': '
            . ($line || 'none'));
    # Now read what the socket buffers held, until the end.
    my $buf = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + 10;
    while (time < $deadline && $sel->can_read($deadline - time)) {
        my $r = sysread $sock, $buf, 1 << 20, length $buf;
        if (!$r) {
            $eof = 1;
            last;
        }
    }
    ($clen) = $buf =~ /\r\nContent-Length: (\d+)\r\n/i;
    my $end = index $buf, "\r\n\r\n";
    $received = $end >= 0 ? length($buf) - $end - 4 : 0;
    close $sock;
};
t_debug("error: $@") if $@;
t_debug("stalled client: received $received body bytes of "
        . ($clen || '?') . ($eof ? ', then the end' : ', no end'));
ok t_cmp(defined $t_line && $t_line >= $stall_timeout
         && $t_line <= $stall_timeout + 1.6 ? 1 : 0, 1,
         sprintf 'stalled client: closed after Timeout (%s s, expected '
         . '%d..%.1f s; not 2 x Timeout)',
         defined $t_line ? sprintf('%.2f', $t_line) : 'never',
         $stall_timeout, $stall_timeout + 1.6);
ok t_cmp($eof && defined $clen && $clen == $stall_size
         && $received < $stall_size ? 1 : 0, 1,
         'stalled client: body cut short, connection closed');
ok t_cmp((dialup_log_x($tag))[0], 'X',
         'stalled client: logged as aborted (%X in dialup_log)');

# The server afterwards.
server_clean_ok($quiet);

# Each answer covers the child that gives it: four zeros in a row.
if ($quiet->{quiet}) {
    ok t_cmp(status_zero_within(20, 'DialupActive', 4), 1,
             'DialupActive back to 0');
}
else {
    skip "server not quiet before the test ($quiet->{left})";
}

my $r = raw_get('/dialup/abort/big.txt', headers => [Range => 'bytes=0-99']);
ok t_cmp($r->{status} == 206 && $r->{body} eq substr(content(100), 0, 100)
         ? 1 : 0, 1, 'server still serves');
