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
#
# Then the same at a modem's speed (issue 14, part 2): at ISDN-2B (16,000
# bytes a second) a stalled client's data never fills the server's send
# buffer, which the kernel lets grow to megabytes, so the module itself
# must notice that the client takes nothing.  50 clients (3 on worker and
# prefork), each with a 4 KB receive buffer, ask for a 3 MB file and never
# read.  Checked:
#
# - each is closed by the server (its socket leaves ESTABLISHED) not
#   before Timeout - 1 s after its request, and within Timeout + 10 s (on
#   a quiet machine it takes about Timeout + 1 s: about a second of the
#   schedule is queued before the client is seen stalled; the worst is
#   printed);
# - each client then reads the headers, a prefix of the file and the end;
# - meanwhile one client, with the same small buffer, that reads at half
#   the modem's rate for 12 s (4 x Timeout) is not closed and gets every
#   byte;
# - on event the stalled downloads hold no thread (BusyWorkers at most 5);
# - afterwards the children's descriptors and, on event, the suspended
#   connections are back to what they were before.

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

plan tests => 17, need need_module('dialup'), need_module('status');

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

# --- a slow modem: stalled clients that the kernel buffers for --------------

my $slow = 16_000;              # ISDN-2B, bytes a second
my $n2 = $async ? 50 : 3;
my $margin = 10;                # seconds past Timeout, on a loaded machine
my $big_size = 3 * 1024 * 1024;
my $big_path = '/dialup/stalled/isdn/big.bin';
my $big = content($big_size);
t_write_file("$docroot$big_path", $big);
# The reader's file: 12 s at half the modem's rate.
my $rd_rate = $slow / 2;
my $rd_size = 96_000;
my $rd_path = '/dialup/stalled/isdn/reader.bin';
my $rd_data = content($rd_size);
t_write_file("$docroot$rd_path", $rd_data);

# A client socket with a 4 KB receive buffer, connected to the virtual
# host, that has sent a GET of $path.
sub slow_client {
    my $path = shift;
    my $sock = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!\n";
    setsockopt($sock, SOL_SOCKET, SO_RCVBUF, 4096)
        or die "SO_RCVBUF: $!\n";
    connect($sock, Socket::pack_sockaddr_in($sport,
                                            Socket::inet_aton(host())))
        or die "connect to port $sport: $!\n";
    binmode $sock;
    syswrite $sock, "GET $path HTTP/1.1\r\nHost: " . host()
                  . ":$sport\r\n\r\n";
    return { sock => $sock, port => $sock->sockport, t_req => time,
             buf => '' };
}

# Start from a quiet virtual host: the first part's connections gone, and
# nothing suspended.  The children's descriptors then are the baseline.
wait_for(15, sub {
    !grep { $_->{state} eq 'ESTABLISHED' } values %{ server_sockets($sport) }
});
wait_for(15, sub {
    my $v = status_auto()->{ConnsAsyncSuspended};
    defined $v && $v == 0 ? 1 : 0;
}) if $async;
# (the least of five looks a tenth of a second apart, so that a descriptor
# open for a moment, e.g. the server-status request's, does not count)
my $base = fd_counts(child_pids());
for (1 .. 4) {
    sleep 0.1;
    my $now = fd_counts(keys %$base);
    for (keys %$base) {
        $base->{$_} = $now->{$_} if defined $now->{$_}
                                    && $now->{$_} < $base->{$_};
    }
}
my $base_sum = 0;
$base_sum += $_ for values %$base;

my (@s, $rd);
my $t1 = time;
eval {
    push @s, slow_client("$big_path?i=$_") for 1 .. $n2;
    $rd = slow_client($rd_path);
};
t_debug("error: $@") if $@;
$rd ||= { buf => '', t_req => $t1, done => 1 };

# Every 50 ms: which stalled connections the server still has, and how much
# its kernel queues for each; the reader takes what half the modem's rate
# allows since its request; on event, server-status once a second.
my (@busy2, @susp2);
my $next_status = $t1 + 1;
my $end_stall = $t1 + $timeout + $margin + 1;
my $end_read = $t1 + 2 * $rd_size / $rd_rate + 10;
while (1) {
    my $now = time;
    my $socks = server_sockets($sport);
    for my $c (@s) {
        next if defined $c->{closed};
        my $k = $socks->{ $c->{port} };
        if (!$k || $k->{state} ne 'ESTABLISHED') {
            $c->{closed} = $now - $c->{t_req};
            next;
        }
        $c->{maxq} = $k->{tx} if $k->{tx} > ($c->{maxq} || 0);
    }
    if (!$rd->{done}) {
        my $allowed = int($rd_rate * ($now - $rd->{t_req}))
                      - length $rd->{buf};
        if ($allowed > 0 && IO::Select->new($rd->{sock})->can_read(0)) {
            my $got = sysread $rd->{sock}, $rd->{buf}, $allowed,
                              length $rd->{buf};
            if (!$got) {
                $rd->{end} = defined $got ? 'EOF' : "error: $!";
                $rd->{done} = 1;
            }
        }
        my $h = index $rd->{buf}, "\r\n\r\n";
        my ($clen) = $rd->{buf} =~ /\r\nContent-Length: (\d+)\r\n/i;
        if ($h >= 0 && defined $clen && length($rd->{buf}) >= $h + 4 + $clen) {
            $rd->{end} ||= 'complete';
            $rd->{done} = 1;
        }
        $rd->{elapsed} = $now - $rd->{t_req} if $rd->{done};
    }
    if ($async && $now >= $next_status) {
        my $st = status_auto();
        push @busy2, $st->{BusyWorkers} // 'none';
        push @susp2, $st->{ConnsAsyncSuspended} // 'none';
        $next_status = $now + 1;
    }
    my $open = grep { !defined $_->{closed} } @s;
    last if ($open == 0 || $now > $end_stall)
            && ($rd->{done} || $now > $end_read);
    sleep 0.05;
}

my @closed = map { $_->{closed} } @s;
my @sorted = sort { $a <=> $b } grep { defined } @closed;
t_debug('stalled at ISDN-2B, closed after the request, s: '
        . $fmt->(@closed));
t_debug(sprintf 'closed: %d of %d; first %s s, worst %s s', scalar @sorted,
        $n2, @sorted ? sprintf('%.2f', $sorted[0]) : '-',
        @sorted ? sprintf('%.2f', $sorted[-1]) : '-');
t_debug('most queued in the kernel per connection, bytes: '
        . join ' ', map { $_->{maxq} || 0 } @s);
ok t_cmp(scalar(grep { ($_->{maxq} || 0) > 0 } @s), $n2,
         "$n2 slow downloads started: the server sent data for each");
my ($lo2, $hi2) = ($timeout - 1, $timeout + $margin);
my @early2 = grep { defined && $_ < $lo2 } @closed;
my @late2 = grep { !defined || $_ > $hi2 } @closed;
ok t_cmp(scalar @early2, 0, "slow stalled downloads not closed before "
         . "Timeout - 1 s ($lo2 s) after the request");
ok t_cmp(scalar @late2, 0, "slow stalled downloads closed within Timeout + "
         . "$margin s ($hi2 s) after the request; late or open: "
         . ($fmt->(@late2) || 'none'));

my $rh = index $rd->{buf}, "\r\n\r\n";
my ($rd_status) = $rd->{buf} =~ m{^HTTP/1\.1 (\d{3}) };
my $rd_body = $rh >= 0 ? substr($rd->{buf}, $rh + 4) : '';
t_debug(sprintf 'reader: %s, %d body bytes in %s s', $rd->{end} || 'open',
        length $rd_body, $fmt->($rd->{elapsed}));
ok t_cmp(($rd_status || 0) == 200 && ($rd->{end} || '') eq 'complete'
         && body_matches($rd_body, $rd_data, 'reader') ? 1 : 0, 1,
         'a client reading at half the rate gets every byte, byte-exact ('
         . ($rd->{end} || 'not done') . ')');
my $rd_ideal = $rd_size / $rd_rate;
ok t_cmp(defined $rd->{elapsed} && $rd->{elapsed} >= 0.8 * $rd_ideal
         ? 1 : 0, 1,
         sprintf 'it was reading for at least %.1f s, %.1f x Timeout (%s s)',
         0.8 * $rd_ideal, 0.8 * $rd_ideal / $timeout,
         $fmt->($rd->{elapsed}));

if ($async) {
    t_debug("BusyWorkers: @busy2; ConnsAsyncSuspended: @susp2");
    my @num = grep { /^\d+$/ } @busy2;
    ok t_cmp(@num && @num == @busy2 && !grep({ $_ > 5 } @num) ? 1 : 0, 1,
             "$n2 slow stalled downloads hold no thread: BusyWorkers at "
             . 'most 5');
}
else {
    skip "a paced download holds its thread under " . mpm() for 1;
}

# The clients that the server closed read what is left: the headers, a
# prefix of the file, the end.  The others are reset (they would read
# megabytes) and count as failures.
my $deadline2 = time + 10;
for my $c (@s) {
    if (!defined $c->{closed}) {
        setsockopt $c->{sock}, SOL_SOCKET, Socket::SO_LINGER(),
                   pack('II', 1, 0);
        close $c->{sock};
        next;
    }
    my $sel = IO::Select->new($c->{sock});
    while (time < $deadline2 && $sel->can_read($deadline2 - time)) {
        my $r = sysread $c->{sock}, $c->{buf}, 1 << 20, length $c->{buf};
        if (!$r) {
            $c->{eof} = defined $r ? 'EOF' : 'reset';
            last;
        }
    }
    close $c->{sock};
    my $h = index $c->{buf}, "\r\n\r\n";
    ($c->{status}) = $c->{buf} =~ m{^HTTP/1\.1 (\d{3}) };
    ($c->{clen}) = $c->{buf} =~ /\r\nContent-Length: (\d+)\r\n/i;
    $c->{body} = $h >= 0 ? substr($c->{buf}, $h + 4) : '';
    delete $c->{buf};
}
close $rd->{sock} if $rd->{sock};
my @cut2 = grep { $_->{eof} && ($_->{status} || 0) == 200
              && ($_->{clen} || 0) == $big_size
              && length $_->{body} < $big_size
              && $_->{body} eq substr($big, 0, length $_->{body}) } @s;
t_debug('slow: body bytes received: '
        . join ' ', map { defined $_->{body} ? length $_->{body} : 'reset' }
                        @s);
ok t_cmp(scalar @cut2, $n2, 'each slow client got the headers, a prefix of '
         . 'the file, then the end');

my $fds = wait_for(15, sub { fd_total($base) <= $base_sum });
my $fd_now = fd_counts(keys %$base);
t_debug("children and open fds: before "
        . join(' ', map { "$_=$base->{$_}" } sort keys %$base) . '; after '
        . join(' ', map { "$_=$fd_now->{$_}" } sort keys %$fd_now));
ok t_cmp($fds && %$base ? 1 : 0, 1, "descriptors of the children back to "
         . "$base_sum (now " . fd_total($base) . ')');

if ($async) {
    my $st = wait_for(15, sub {
        my $v = status_auto()->{ConnsAsyncSuspended};
        defined $v && $v == 0 ? 1 : 0;
    });
    ok t_cmp($st, 1, 'ConnsAsyncSuspended back to 0');
}
else {
    skip "no suspended connections under " . mpm() for 1;
}
