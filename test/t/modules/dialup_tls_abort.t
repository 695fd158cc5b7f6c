# Paced downloads over HTTPS/1.1 that do not end normally, on the TLS
# virtual host of t/conf/ssl/dialup_tls.conf.in (Timeout 3):
#
# - a client that goes away mid-download (a reset, or a TLS close_notify
#   and close): the request ends long before its schedule would, is
#   logged as aborted, and the server is clean afterwards: no socket of
#   the TLS port left, the children's descriptors back, no suspended
#   connection and no download left in server-status;
# - clients that stop reading (16 MB at 80 Mbit/s, a 4 KB receive
#   buffer): closed about Timeout after they last took data, and on
#   event they are suspended meanwhile and hold no thread;
# - a graceful restart mid-download: the download completes byte for
#   byte, the old children exit, the new ones serve TLS.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use DialupTLS;
use IO::Select ();
use Time::HiRes qw(time sleep);

my @cases = (
    ['reset mid-download', 'abort'],
    ['close_notify mid-download', 'disconnect'],
);
my $async = expect_async();
my $tests = 3 * @cases + 4 + 5 + 4;
$tests++ if $async;
plan tests => $tests, need need_module('dialup'), need_module('ssl'),
                      need_module('status');

my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');
my $tport = conf_port('DIALUP_TLS_PORT');
my $timeout = 3;                # Timeout of the TLS virtual host

# 4 s at 160 kbit/s (dialup/tls/rate/).
my $size = 80_000;
my $secs = $size * 8 / 160_000;
my $data = content($size);
t_write_file("$docroot/dialup/tls/rate/big.txt", $data);
my $stall_size = 16 * 1024 * 1024;
my $stall_data = content($stall_size);
t_write_file("$docroot/dialup/tls/stall/big.bin", $stall_data);

# The line of dialup_log (%>s %B %X "%r") of the request tagged $tag.
sub dialup_line {
    my ($tag) = @_;
    my @l = log_lines("$t_logs/dialup_log", qr/ "GET [^ ]*\?\Q$tag\E HTTP/);
    return $l[0];
}

# Nothing of earlier tests left on the TLS port; every child has made a
# TLS connection (so that what TLS opens once is in the baseline).
wait_for(10, sub { !(port_sockets($tport)->{ESTABLISHED} || 0) });
for (1 .. 4) {
    eval {
        my $c = tls_conn($tport);
        $c->send_request(GET => '/health.txt',
                         headers => [Connection => 'close']);
        $c->read_response(timeout => 5);
        $c->disconnect;
    };
}
wait_for(10, sub { !(port_sockets($tport)->{ESTABLISHED} || 0) });
my $base = fd_counts(child_pids());
my $base_sum = 0;
$base_sum += $_ for values %$base;
t_debug("children and open fds before: "
        . join ' ', map { "$_=$base->{$_}" } sort keys %$base);

# --- clients gone mid-download ---------------------------------------------------

my $n = 0;
for my $case (@cases) {
    my ($name, $leave) = @$case;
    my $tag = "tlsabort$$-" . ++$n;
    my ($got, $t_gone);
    eval {
        my $c = tls_conn($tport);
        $c->send_request(GET => "/dialup/tls/rate/big.txt?$tag");
        my $deadline = time + 5;
        while (length $c->{buf} < 8_000 && defined $c->fill($deadline)) {
            last if $c->{eof};
        }
        $got = $c->{buf} =~ m{^HTTP/1\.1 200 } && length $c->{buf} >= 8_000;
        $t_gone = time;
        $c->$leave;
    };
    t_debug("error: $@") if $@;
    $t_gone ||= time;
    ok t_cmp($got ? 1 : 0, 1, "$name: download started");
    my $line = wait_for(10, sub { dialup_line($tag) });
    my $after = time - $t_gone;
    t_debug('dialup_log: ' . ($line || 'none'));
    ok t_cmp($line && $after < $secs / 2 ? 1 : 0, 1,
             sprintf "%s: request logged %.1f s after the client left "
             . "(limit %.1f s; the download takes %.1f s)", $name, $after,
             $secs / 2, $secs);
    ok t_cmp(($line || '') =~ /^200 \d+ X / ? 1 : 0, 1,
             "$name: logged as aborted (%X in dialup_log)");
}

# The server afterwards: nothing left of those connections.
my $left = wait_for(10, sub {
    my $s = port_sockets($tport);
    !($s->{ESTABLISHED} || 0) && !($s->{CLOSE_WAIT} || 0);
});
t_debug('TLS port sockets: ' . join ' ', %{ port_sockets($tport) });
ok t_cmp($left ? 1 : 0, 1,
         'no socket of the TLS port left ESTABLISHED or in CLOSE_WAIT');
my $fds = wait_for(10, sub { fd_total($base) <= $base_sum });
ok t_cmp($fds && %$base ? 1 : 0, 1, "descriptors of the children back to "
         . "$base_sum (now " . fd_total($base) . ')');
my $active = wait_for(10, sub {
    !grep { my $v = status_auto()->{DialupActive}; !defined $v || $v != 0 }
        1 .. 4;
});
ok t_cmp($active ? 1 : 0, 1, 'DialupActive back to 0');
my $susp0 = wait_for(10, sub {
    !grep { my $v = status_auto()->{ConnsAsyncSuspended}; $v && $v != 0 }
        1 .. 4;
});
ok t_cmp($susp0 ? 1 : 0, 1, 'ConnsAsyncSuspended back to 0 (or absent)');

# --- clients that stop reading ---------------------------------------------------

my $ns = $async ? 10 : 3;
my @c;
my $t0 = time;
eval {
    for my $i (1 .. $ns) {
        my $sock = tls_socket($tport, rcvbuf => 4096);
        syswrite $sock, "GET /dialup/tls/stall/big.bin?i=$i HTTP/1.1\r\n"
                      . "Host: 127.0.0.1\r\n\r\n";
        push @c, { sock => $sock, port => $sock->sockport, buf => '' };
    }
    my $deadline = time + 10;
    for my $c (@c) {
        my $sel = IO::Select->new($c->{sock});
        while (index($c->{buf}, "\r\n\r\n") < 0 && time < $deadline
               && ($c->{sock}->pending || $sel->can_read($deadline - time))) {
            sysread $c->{sock}, $c->{buf}, 4096, length $c->{buf} or last;
        }
        ($c->{status}) = $c->{buf} =~ m{^HTTP/1\.1 (\d{3}) };
        ($c->{clen}) = $c->{buf} =~ /\r\nContent-Length: (\d+)\r\n/i;
    }
};
t_debug("error: $@") if $@;
my $heads = grep { ($_->{status} || 0) == 200
                   && ($_->{clen} || 0) == $stall_size } @c;
ok t_cmp($heads, $ns, "$ns stalled downloads started: 200, the file's length");

# Every 50 ms the server side's send queue of each connection: the last
# time it changed is the last time the client took data; the end is
# when the socket leaves ESTABLISHED.
my (@busy, @suspended);
my $next = $t0 + 0.5;
my $end = $t0 + 2 * $timeout + 4;
while (time < $end) {
    my $now = time;
    my $s = server_sockets($tport);
    for my $c (@c) {
        next if defined $c->{closed};
        my $k = $s->{ $c->{port} };
        if (!$k || $k->{state} ne 'ESTABLISHED') {
            $c->{closed} = $now;
            next;
        }
        if (!defined $c->{tx} || $k->{tx} != $c->{tx}) {
            ($c->{tx}, $c->{t_tx}) = ($k->{tx}, $now);
        }
    }
    last unless grep { !defined $_->{closed} } @c;
    if (@busy < 10 && $now >= $next) {
        my $st = status_auto();
        push @busy, $st->{BusyWorkers} // 'none';
        push @suspended, $st->{ConnsAsyncSuspended} // 'none';
        $next = $now + 0.2;
    }
    sleep 0.05;
}
my @after = map { defined $_->{closed} && defined $_->{t_tx}
                  ? $_->{closed} - $_->{t_tx} : undef } @c;
my $fmt = sub { join ' ', map { defined ? sprintf('%.2f', $_) : 'open' } @_ };
t_debug('server send queues: ' . join(' ', map { $_->{tx} // '?' } @c)
        . '; closed after the last change, s: ' . $fmt->(@after));
t_debug("BusyWorkers: @busy; ConnsAsyncSuspended: @suspended");
my ($lo, $hi) = ($timeout - 1, $timeout + 2.5);
ok t_cmp(scalar(grep { ($_->{tx} || 0) > 0 } @c), $ns,
         'every stalled download has data in the server\'s send queue');
ok t_cmp(scalar(grep { defined && $_ < $lo } @after), 0,
         "not closed before Timeout - 1 s ($lo s) after the last data");
my @late = grep { !defined || $_ > $hi } @after;
ok t_cmp(scalar @late, 0, "closed within Timeout + 2.5 s ($hi s) after the "
         . 'last data; late or open: ' . ($fmt->(@late) || 'none'));
if ($async) {
    my @num = grep { /^\d+$/ } @busy;
    my ($smax) = sort { $b <=> $a } map { /^\d+$/ ? $_ : 0 } @suspended;
    ok t_cmp(@num && @num == @busy && !grep({ $_ > 5 } @num)
             && ($smax || 0) >= $ns ? 1 : 0, 1,
             "event: $ns stalled TLS downloads suspended (up to "
             . ($smax || 0) . '), BusyWorkers at most 5 (' . "@busy)");
}
my $deadline = time + 10;
for my $c (@c) {
    my $sel = IO::Select->new($c->{sock});
    while (time < $deadline
           && ($c->{sock}->pending || $sel->can_read($deadline - time))) {
        my $r = sysread $c->{sock}, $c->{buf}, 1 << 20, length $c->{buf};
        unless ($r) {
            $c->{eof} = 1;
            last;
        }
    }
    close $c->{sock};
    my $h = index $c->{buf}, "\r\n\r\n";
    $c->{body} = $h >= 0 ? substr($c->{buf}, $h + 4) : '';
    delete $c->{buf};
}
t_debug('body bytes received: ' . join ' ', map { length $_->{body} } @c);
ok t_cmp(scalar(grep { $_->{eof} && length $_->{body} < $stall_size
                       && $_->{body} eq substr($stall_data, 0,
                                               length $_->{body}) } @c),
         $ns, 'each stalled client saw a prefix of the file, then the end');

# --- a graceful restart mid-download ---------------------------------------------

my ($r, $old, $signalled);
eval {
    my $sock = tls_socket($tport);
    my @old = child_pids();
    $old = \@old;
    syswrite $sock, "GET /dialup/tls/rate/big.txt?restart$$ HTTP/1.1\r\n"
                  . "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
    # Restart after a few pulses, with most of the body to come (not on
    # the first readable event: TLS 1.3 sends session tickets first).
    sleep 0.6;
    my $parent = parent_pid();
    t_debug("old children: @old; graceful restart of $parent");
    $signalled = $parent && kill('USR1', $parent);
    $r = timed_get($sock, "big.txt?restart$$", read_only => 1);
    close $sock;
};
t_debug("error: $@") if $@;
ok t_cmp($signalled ? 1 : 0, 1, 'graceful restart signalled mid-download');
ok t_cmp($r && $r->{status} == 200
         && body_matches($r->{body}, $data, 'download across the restart')
         ? 1 : 0, 1, 'download across the restart: 200, body exact');
my $gone = $old && @$old && wait_for(20, sub {
    my %now = map { $_ => 1 } child_pids();
    !grep { $now{$_} } @$old;
});
ok t_cmp($gone ? 1 : 0, 1, 'old children (' . join(' ', @{ $old || [] })
         . ') exited');
my $after_r = wait_for(10, sub {
    my $x = eval {
        my $c = tls_conn($tport);
        $c->send_request(GET => '/health.txt',
                         headers => [Connection => 'close']);
        my $y = $c->read_response(timeout => 5);
        $c->disconnect;
        $y;
    };
    $x && $x->{status} == 200 && $x->{body} eq "healthy\n";
});
ok t_cmp($after_r ? 1 : 0, 1, 'the new children serve TLS');
