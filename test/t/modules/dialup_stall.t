# Clients that stop reading a paced download.  Each asks for a file far
# larger than the socket buffers (16 MB at 80 Mbit/s, with a 4 KB receive
# buffer on the client), reads the headers and then nothing: the server's
# send queue fills and stays full.  The virtual host of
# t/conf/dialup_checks.conf.in has Timeout 3.  Checked, from the server
# side's sockets in /proc/net/tcp:
#
# - each connection is closed by the server about Timeout after it last
#   took data: not before Timeout - 1 s, and within Timeout + 2.5 s (not
#   twice Timeout);
# - the clients then find their body cut short, with only bytes of the file;
# - while they stall, other requests are answered at once (10 GETs, each
#   within 1 s).
#
# On event a stalled download holds no thread: 20 of them on 20 threads,
# and server-status shows them suspended with few busy workers.  On worker
# and prefork each paced download holds its thread or process, so only 3
# stall there (leaving the others free) and the server-status checks are
# skipped.  A small version of the "stalled" case of test/stress.

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
use Time::HiRes qw(time sleep);

my $async = expect_async();
my $n = $async ? 20 : 3;
my $timeout = 3;                # Timeout of the virtual host
my $size = 16 * 1024 * 1024;
my $path = '/dialup/stalled/big.bin';

plan tests => 8, need need_module('dialup'), need_module('status');

my $docroot = Apache::Test::vars('documentroot');
my $data = content($size);
t_write_file("$docroot$path", $data);

# The virtual host's port.
my $sport = define_port('DIALUP_STALL_PORT');

# Nothing left of an earlier run on the virtual host.
wait_for(10, sub {
    !grep { $_->{state} eq 'ESTABLISHED' } values %{ server_sockets($sport) }
});

# --- start the downloads, read their headers --------------------------------

my @c;
my $t0 = time;
eval {
    for my $i (1 .. $n) {
        my $sock = IO::Socket::INET->new(Proto => 'tcp')
            or die "socket: $!\n";
        # Before connect(): the window the client offers is set then.
        setsockopt($sock, SOL_SOCKET, SO_RCVBUF, 4096)
            or die "SO_RCVBUF: $!\n";
        connect($sock, Socket::pack_sockaddr_in($sport,
                                                Socket::inet_aton(host())))
            or die "connect to port $sport: $!\n";
        binmode $sock;
        syswrite $sock, "GET $path?i=$i HTTP/1.1\r\nHost: " . host()
                      . ":$sport\r\n\r\n";
        push @c, { sock => $sock, port => $sock->sockport, buf => '' };
    }
    my $deadline = time + 10;
    for my $c (@c) {
        my $sel = IO::Select->new($c->{sock});
        while (index($c->{buf}, "\r\n\r\n") < 0 && time < $deadline
               && $sel->can_read($deadline - time)) {
            sysread $c->{sock}, $c->{buf}, 4096, length $c->{buf}
                or last;
        }
        ($c->{status}) = $c->{buf} =~ m{^HTTP/1\.1 (\d{3}) };
        ($c->{clen}) = $c->{buf} =~ /\r\nContent-Length: (\d+)\r\n/i;
    }
};
t_debug("error: $@") if $@;
my $heads = grep { ($_->{status} || 0) == 200
                   && ($_->{clen} || 0) == $size } @c;
ok t_cmp($heads, $n, "$n downloads started: 200 with the file's length");

# --- watch them stall and end ------------------------------------------------

# Every 50 ms the server side's send queue of each connection: the last
# time it changed is the last time the client took data (or the server
# gave the kernel more); the end is when the socket leaves ESTABLISHED.
# Meanwhile 10 GETs of another file on the main port, and on event
# server-status, all while the downloads are stalled.
my (@probes, @busy, @suspended);
my $next_probe = $t0 + 0.5;
my $end = $t0 + 2 * $timeout + 4;
while (time < $end) {
    my $now = time;
    my $s = server_sockets($sport);
    for my $c (@c) {
        my $k = $s->{ $c->{port} };
        next if defined $c->{closed};
        if (!$k || $k->{state} ne 'ESTABLISHED') {
            $c->{closed} = $now;
            next;
        }
        if (!defined $c->{tx} || $k->{tx} != $c->{tx}) {
            ($c->{tx}, $c->{t_tx}) = ($k->{tx}, $now);
        }
    }
    last unless grep { !defined $_->{closed} } @c;
    if (@probes < 10 && $now >= $next_probe) {
        my $r = raw_get('/health.txt', timeout => 2,
                        headers => [Connection => 'close']);
        $r->{conn}->disconnect if $r->{conn};
        push @probes, $r;
        if ($async) {
            my $st = status_auto();
            push @busy, $st->{BusyWorkers} // 'none';
            push @suspended, $st->{ConnsAsyncSuspended} // 'none';
        }
        $next_probe = $now + 0.2;
    }
    sleep 0.05;
}

my @held = map { $_->{tx} || 0 } @c;
t_debug("server send queue when last changed: @held");
ok t_cmp(scalar(grep { $_ > 0 } @held), $n,
         'every download stalled with data in the server\'s send queue');

my @after = map { defined $_->{closed} && defined $_->{t_tx}
                  ? $_->{closed} - $_->{t_tx} : undef } @c;
my $fmt = sub { join ' ', map { defined ? sprintf('%.2f', $_) : 'open' } @_ };
t_debug('closed after the last change, s: ' . $fmt->(@after));
my ($lo, $hi) = ($timeout - 1, $timeout + 2.5);
my @early = grep { defined && $_ < $lo } @after;
my @late = grep { !defined || $_ > $hi } @after;
ok t_cmp(scalar @early, 0,
         "not closed before Timeout - 1 s ($lo s) after the last data");
ok t_cmp(scalar @late, 0, "closed within Timeout + 2.5 s ($hi s) after the "
         . 'last data; late or open: ' . ($fmt->(@late) || 'none'));

my @slow = grep { $_->{status} != 200 || $_->{body} ne "healthy\n"
                  || ($_->{elapsed} // 99) > 1 } @probes;
t_debug('probe times, s: '
        . join ' ', map { sprintf '%.3f', $_->{elapsed} || -1 } @probes);
ok t_cmp(@probes == 10 && !@slow ? 1 : 0, 1,
         'while they stall, 10 other GETs each answered within 1 s ('
         . scalar(@probes) . ' sent, ' . scalar(@slow) . ' late or wrong)');

if ($async) {
    # BusyWorkers counts the thread that answers server-status.
    t_debug("BusyWorkers: @busy; ConnsAsyncSuspended: @suspended");
    my @num = grep { /^\d+$/ } @busy;
    ok t_cmp(@num && @num == @busy && !grep({ $_ > 5 } @num) ? 1 : 0, 1,
             "$n stalled downloads hold no thread: BusyWorkers at most 5");
    ok t_cmp(scalar(grep { /^\d+$/ && $_ >= $n } @suspended) ? 1 : 0, 1,
             "server-status shows the $n stalled downloads suspended");
}
else {
    skip "a paced download holds its thread under " . mpm() . ": no "
         . "suspended connections, busy workers as many as downloads"
         for 1 .. 2;
}

# --- read what is left: a truncated body, then the end -----------------------

my $deadline = time + 10;
for my $c (@c) {
    my $sel = IO::Select->new($c->{sock});
    while (time < $deadline && $sel->can_read($deadline - time)) {
        my $r = sysread $c->{sock}, $c->{buf}, 1 << 20, length $c->{buf};
        if (!$r) {
            $c->{eof} = 1;
            last;
        }
    }
    close $c->{sock};
    my $h = index $c->{buf}, "\r\n\r\n";
    $c->{body} = $h >= 0 ? substr($c->{buf}, $h + 4) : '';
    delete $c->{buf};
}
my @cut = grep { $_->{eof} && length $_->{body} < $size
                 && $_->{body} eq substr($data, 0, length $_->{body}) } @c;
t_debug('body bytes received: ' . join ' ', map { length $_->{body} } @c);
ok t_cmp(scalar @cut, $n,
         'each client saw a prefix of the file, then the end');
