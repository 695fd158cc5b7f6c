# Helpers shared by t/modules/dialup_tls*.t and dialup_h2*.t: the ports of
# the virtual hosts of t/conf/ssl/dialup_tls.conf.in, TLS connections
# checked against Apache::Test's test CA, a timed HTTPS/1.1 download that
# records every read, many downloads at once on non-blocking TLS sockets,
# and a small HTTP/2 client (over TLS with ALPN "h2", or h2c with prior
# knowledge) that can cancel one stream or drop the whole connection.
#
# Every wait here is bounded, as in SuspendTest.pm.

package DialupTLS;

use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestUtil qw(t_debug);
use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK EINTR);
use IO::Select ();
use IO::Socket::INET ();
use IO::Socket::SSL qw(SSL_VERIFY_PEER SSL_WANT_READ SSL_WANT_WRITE);
use Socket qw(SOL_SOCKET SO_RCVBUF SO_LINGER);
use Time::HiRes qw(time sleep);
use POSIX ();
use SuspendTest ();

use Exporter 'import';
our @EXPORT = qw(conf_port ca_file tls_socket tls_conn timed_get
                 parallel_tls_get max_gap port_sockets status_sampler
                 sampler_results);

# The port of one of our virtual hosts: "Define $name N" in a generated
# t/conf/*.conf or t/conf/ssl/*.conf (define_port() of DialupTest.pm looks
# in t/conf/ only).
sub conf_port {
    my $name = shift;
    my $dir = Apache::Test::vars('t_conf');
    for my $conf (glob("$dir/*.conf"), glob("$dir/ssl/*.conf")) {
        open my $fh, '<', $conf or next;
        while (<$fh>) {
            return $1 if /^\s*Define\s+\Q$name\E\s+(\d+)\s*$/;
        }
    }
    die "no \"Define $name\" in $dir/*.conf or $dir/ssl/*.conf\n";
}

# The certificate of Apache::Test's CA, which signed the server's.
sub ca_file {
    Apache::Test::vars('sslca') . '/'
        . Apache::Test::vars('sslcaorg') . '/certs/ca.crt';
}

# The client side of a TLS connection, its certificate chain checked
# against the test CA (the name is not: the certificate names 127.0.0.1
# in its subject only, which IO::Socket::SSL does not match against an
# address).
sub ssl_opts {
    my %opt = @_;
    return (SSL_verify_mode => SSL_VERIFY_PEER,
            SSL_ca_file => ca_file(),
            SSL_verifycn_scheme => 'none',
            $opt{alpn} ? (SSL_alpn_protocols => $opt{alpn}) : ());
}

# A connected, blocking TCP socket to 127.0.0.1:$port; rcvbuf => N sets
# SO_RCVBUF before connect() (the window the client offers is set then).
sub tcp_socket {
    my ($port, %opt) = @_;
    my $sock = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!\n";
    if ($opt{rcvbuf}) {
        setsockopt($sock, SOL_SOCKET, SO_RCVBUF, $opt{rcvbuf})
            or die "SO_RCVBUF: $!\n";
    }
    connect($sock, Socket::pack_sockaddr_in($port,
                                            Socket::inet_aton('127.0.0.1')))
        or die "connect to port $port: $!\n";
    binmode $sock;
    return $sock;
}

# A blocking TLS connection to $port, handshake done.  Options: alpn =>
# [protocols], rcvbuf.
sub tls_socket {
    my ($port, %opt) = @_;
    my $sock = tcp_socket($port, %opt);
    IO::Socket::SSL->start_SSL($sock, ssl_opts(%opt), Timeout => 10)
        or die "TLS handshake with port $port: "
               . ($IO::Socket::SSL::SSL_ERROR || $!) . "\n";
    return $sock;
}

# A SuspendTest::Conn (its raw HTTP/1.1 client: read_response(),
# quiet_for(), abort() ...) over TLS to $port.  Its requests name the
# main port in Host; the virtual host is chosen by address and port.
# With records of at most 16 KB and reads of 64 KB, OpenSSL keeps no
# decrypted data back from select().
sub tls_conn {
    my ($port, %opt) = @_;
    my $sock = tls_socket($port, %opt);
    return bless { sock => $sock, buf => '', eof => 0 }, 'SuspendTest::Conn';
}

# The largest time between two reads in @$reads ([time, bytes], ...),
# from the first one; 0 with fewer than two.
sub max_gap {
    my $reads = shift;
    my $max = 0;
    for my $i (1 .. $#$reads) {
        my $d = $reads->[$i][0] - $reads->[$i - 1][0];
        $max = $d if $d > $max;
    }
    return $max;
}

# GET $path on the connected socket $sock (TLS or not), with a
# Content-Length response expected, recording when each read returned
# data.  Returns a hash like SuspendTest::Conn::read_response() (status,
# headers, body, complete, eof, error, elapsed) with reads => [[seconds
# since the request was sent, bytes], ...], t_first (the first byte) and
# gap (max_gap of the reads).  Options: timeout (default 20), headers
# => [name, value, ...], method; read_only => 1 sends nothing and reads
# the response to a request sent before (timed from this call).
sub timed_get {
    my ($sock, $path, %opt) = @_;
    my $method = $opt{method} || 'GET';
    my $req = "$method $path HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    my @h = @{ $opt{headers} || [] };
    while (my ($k, $v) = splice @h, 0, 2) {
        $req .= "$k: $v\r\n";
    }
    my %r = (status => 0, headers => {}, body => '', complete => 0,
             reads => []);
    my $t0 = time;
    my $deadline = $t0 + ($opt{timeout} || 20);
    unless ($opt{read_only}) {
        syswrite($sock, "$req\r\n")
            or do { $r{error} = "write: $!"; return \%r };
    }
    my ($buf, $want) = ('', undef);
    my $sel = IO::Select->new($sock);
    while (1) {
        if (defined $want && length $buf >= $want) {
            $r{complete} = 1;
            last;
        }
        my $left = $deadline - time;
        unless ($left > 0 && ($sock->can('pending') && $sock->pending
                              || $sel->can_read($left))) {
            $r{error} = 'timeout';
            last;
        }
        my $n = sysread $sock, my $data, 65536;
        next if !defined $n && ($! == EAGAIN || $! == EINTR);
        unless ($n) {
            $r{eof} = 1;
            $r{error} = defined $n ? 'connection closed' : "read: $!";
            last;
        }
        push @{ $r{reads} }, [time - $t0, $n];
        $buf .= $data;
        if (!defined $want && (my $end = index $buf, "\r\n\r\n") >= 0) {
            my ($line, @lines) = split /\r\n/, substr($buf, 0, $end + 4, '');
            ($r{status}) = $line =~ m{^HTTP/1\.1 (\d{3}) } or do {
                $r{error} = "bad status line '$line'";
                last;
            };
            for (@lines) {
                $r{headers}{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
            }
            $want = $method eq 'HEAD' ? 0 : $r{headers}{'content-length'};
            unless (defined $want) {
                $r{error} = 'no Content-Length';
                last;
            }
        }
    }
    $r{body} = defined $want ? substr($buf, 0, $want) : '';
    $r{elapsed} = time - $t0;
    $r{t_first} = @{ $r{reads} } ? $r{reads}[0][0] : undef;
    $r{gap} = max_gap($r{reads});
    t_debug(sprintf "%s %s: %s, %d body bytes in %.3f s, %d reads, first "
            . "after %s s, largest gap %.3f s%s", $method, $path, $r{status},
            length $r{body}, $r{elapsed}, scalar @{ $r{reads} },
            defined $r{t_first} ? sprintf('%.3f', $r{t_first}) : 'never',
            $r{gap}, $r{error} ? " ($r{error})" : '');
    return \%r;
}

# The server side's TCP sockets of local port $port by state name, like
# SuspendTest::tcp_states() for the main port.
sub port_sockets {
    my $port = sprintf '%04X', shift;
    my %name = ('01' => 'ESTABLISHED', '06' => 'TIME_WAIT',
                '08' => 'CLOSE_WAIT', '0A' => 'LISTEN');
    my %n;
    for my $file ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $file or next;
        <$fh>;
        while (<$fh>) {
            my (undef, $local, undef, $st) = split;
            next unless defined $st && $local =~ /:$port$/;
            $n{ $name{$st} || $st }++;
        }
    }
    return \%n;
}

# GET each of @$paths over TLS to $port, all at once, each on its own
# connection with "Connection: close", on non-blocking sockets in one
# select() loop: connect, handshake, request, read until the server
# closes.  Options: timeout (overall, default 60), at => [[seconds,
# sub], ...] run while they are in flight.  Returns a list of hashes like
# SuspendTest::parallel_get()'s (status, headers, body, complete, eof,
# error, done = seconds since the start), plus t_first.
sub parallel_tls_get {
    my ($port, $paths, %opt) = @_;
    # A server that resets a connection makes a write fail, not the test.
    local $SIG{PIPE} = 'IGNORE';
    my $t0 = time;
    my $deadline = $t0 + ($opt{timeout} || 60);
    my @at = sort { $a->[0] <=> $b->[0] } @{ $opt{at} || [] };
    my $addr = Socket::pack_sockaddr_in($port, Socket::inet_aton('127.0.0.1'));
    my (@st, %by_fd);
    my $rsel = IO::Select->new;
    my $wsel = IO::Select->new;

    for my $path (@$paths) {
        my $s = { out => "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         . "Connection: close\r\n\r\n",
                  raw => '', phase => 'connect' };
        push @st, $s;
        my $sock = IO::Socket::INET->new(Proto => 'tcp', Blocking => 0);
        unless ($sock && (connect($sock, $addr) || $! == EINPROGRESS)) {
            $s->{error} = "connect: $!";
            next;
        }
        $s->{sock} = $sock;
        $by_fd{fileno $sock} = $s;
        $wsel->add($sock);
    }

    # Stop watching $s: its connection is over.
    my $finish = sub {
        my ($s, $error) = @_;
        $s->{error} = $error if $error;
        $s->{done} = time - $t0;
        $rsel->remove($s->{sock});
        $wsel->remove($s->{sock});
        delete $by_fd{fileno $s->{sock}};
        close delete $s->{sock};
    };
    # Wait for $sock to be readable or writable, as TLS asks.
    my $want = sub {
        my ($sock, $write) = @_;
        if ($write) {
            $rsel->remove($sock);
            $wsel->add($sock);
        }
        else {
            $wsel->remove($sock);
            $rsel->add($sock);
        }
    };
    # One step of $s, when its socket is ready.
    my $step = sub {
        my $s = shift;
        my $sock = $s->{sock};
        if ($s->{phase} eq 'connect') {
            my $err = getsockopt($sock, SOL_SOCKET, Socket::SO_ERROR());
            $err = unpack 'i', $err if defined $err;
            return $finish->($s, "connect: error $err") if $err;
            IO::Socket::SSL->start_SSL($sock, ssl_opts(),
                                       SSL_startHandshake => 0)
                or return $finish->($s, "TLS: $IO::Socket::SSL::SSL_ERROR");
            $s->{phase} = 'handshake';
        }
        if ($s->{phase} eq 'handshake') {
            if ($sock->connect_SSL) {
                $s->{phase} = 'write';
            }
            elsif ($IO::Socket::SSL::SSL_ERROR == SSL_WANT_READ
                   || $IO::Socket::SSL::SSL_ERROR == SSL_WANT_WRITE) {
                return $want->($sock,
                    $IO::Socket::SSL::SSL_ERROR == SSL_WANT_WRITE);
            }
            else {
                return $finish->($s, "TLS handshake: "
                                     . $IO::Socket::SSL::SSL_ERROR);
            }
        }
        if ($s->{phase} eq 'write') {
            my $n = syswrite $sock, $s->{out};
            if (!defined $n) {
                return $want->($sock, 1) if $! == EAGAIN || $! == EWOULDBLOCK;
                return $finish->($s, "write: $!");
            }
            substr $s->{out}, 0, $n, '';
            return $want->($sock, 1) if $s->{out} ne '';
            $s->{phase} = 'read';
            return $want->($sock, 0);
        }
        # Read until it would block; OpenSSL may hold a record's rest.
        while (1) {
            my $n = sysread $sock, my $data, 65536;
            if (!defined $n) {
                return $want->($sock, 0) if $! == EAGAIN || $! == EWOULDBLOCK;
                return $finish->($s, "read: $!");
            }
            if ($n == 0) {
                $s->{eof} = 1;
                return $finish->($s);
            }
            $s->{t_first} //= time - $t0;
            $s->{raw} .= $data;
        }
    };

    while (($rsel->count || $wsel->count) && time < $deadline) {
        while (@at && time - $t0 >= $at[0][0]) {
            (shift @at)->[1]->();
        }
        my $wait = $deadline - time;
        if (@at && $at[0][0] - (time - $t0) < $wait) {
            $wait = $at[0][0] - (time - $t0);
        }
        $wait = 0 if $wait < 0;
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $wait);
        for my $sock (@{ $r || [] }, @{ $w || [] }) {
            my $s = $by_fd{fileno $sock} or next;
            $step->($s);
        }
    }
    while (@at) {
        (shift @at)->[1]->();
    }
    for my $s (@st) {
        $finish->($s, 'timeout') if $s->{sock};
        SuspendTest::parse_raw($s);
    }
    return @st;
}

# Samples server-status?auto in a child process at each of @times
# (seconds from now), so that a client busy with many connections never
# waits for it (a client that stops to read server-status while the
# server's threads wait for its TLS handshakes deadlocks until Timeout).
# Returns a handle for sampler_results().
sub status_sampler {
    my @times = @_;
    pipe(my $r, my $w) or die "pipe: $!\n";
    my $t0 = time;
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if (!$pid) {
        close $r;
        for my $t (@times) {
            my $left = $t0 + $t - time;
            sleep $left if $left > 0;
            my $s = SuspendTest::status_auto();
            syswrite $w, sprintf "%.3f %s %s %s\n", time - $t0,
                map { $s->{$_} // 'none' }
                    qw(ConnsAsyncSuspended BusyWorkers DialupActive);
        }
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    return { pid => $pid, fh => $r };
}

# The samples of a status_sampler(): a list of hashes (t, suspended,
# busy, active; 'none' where the line was missing).  Waits for the child.
sub sampler_results {
    my $h = shift;
    my @s;
    my $fh = $h->{fh};
    while (my $line = <$fh>) {
        my %v;
        @v{qw(t suspended busy active)} = split ' ', $line;
        push @s, \%v;
    }
    close $fh;
    waitpid $h->{pid}, 0;
    return @s;
}

# ---------------------------------------------------------------------
# A small HTTP/2 client (RFC 9113) on one blocking connection.  Requests
# are HEADERS frames of literal fields (HPACK without Huffman coding or
# indexing); responses are decoded as far as the tests need: the status
# when the server sends it as an indexed field of the static table (200,
# 204, 206, 304, 400, 404 and 500 are there), the DATA of each stream
# with the time of each frame, END_STREAM, RST_STREAM and GOAWAY.  The
# client advertises large windows so that flow control never paces.

package DialupTLS::H2;

use Apache::TestUtil qw(t_debug);
use IO::Select ();
use Time::HiRes qw(time);

use constant {
    DATA => 0, HEADERS => 1, RST_STREAM => 3, SETTINGS => 4, PING => 6,
    GOAWAY => 7, WINDOW_UPDATE => 8, CONTINUATION => 9,
    END_STREAM => 0x1, ACK => 0x1, END_HEADERS => 0x4, PADDED => 0x8,
    PRIORITY_FLAG => 0x20,
    CANCEL => 0x8,
};

# The :status values of the HPACK static table (RFC 7541, Appendix A).
my %static_status = (8 => 200, 9 => 204, 10 => 206, 11 => 304, 12 => 400,
                     13 => 404, 14 => 500);

# new(port => N, tls => 1): connects (TLS with ALPN h2, or h2c with prior
# knowledge), sends the preface, our SETTINGS and a connection window.
# Dies when the server does not take h2.
sub new {
    my ($class, %opt) = @_;
    my $sock;
    if ($opt{tls}) {
        $sock = DialupTLS::tls_socket($opt{port}, alpn => ['h2']);
        my $alpn = $sock->alpn_selected // 'none';
        die "ALPN chose '$alpn', not h2\n" unless $alpn eq 'h2';
    }
    else {
        $sock = DialupTLS::tcp_socket($opt{port});
    }
    my $self = bless { sock => $sock, port => $opt{port},
                       scheme => $opt{tls} ? 'https' : 'http',
                       next_id => 1, streams => {}, in => '',
                       t0 => time }, $class;
    # ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 2^30; connection window + 2^30.
    $self->write_raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                     . frame(SETTINGS, 0, 0, pack('nN nN', 2, 0, 4, 1 << 30))
                     . frame(WINDOW_UPDATE, 0, 0, pack('N', 1 << 30)));
    return $self;
}

sub frame {
    my ($type, $flags, $id, $payload) = @_;
    my $len = length $payload;
    return pack('nC C C N', $len >> 8, $len & 0xff, $type, $flags,
                $id & 0x7fffffff) . $payload;
}

sub write_raw {
    my ($self, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite $self->{sock}, $data, length($data) - $off, $off;
        die "h2 write: $!\n" unless defined $n;
        $off += $n;
    }
}

# HPACK integer with an N-bit prefix, the first byte's high bits $hi.
sub hpack_int {
    my ($v, $bits, $hi) = @_;
    my $max = (1 << $bits) - 1;
    return pack('C', $hi | $v) if $v < $max;
    my $s = pack('C', $hi | $max);
    $v -= $max;
    while ($v >= 128) {
        $s .= pack('C', ($v & 0x7f) | 0x80);
        $v >>= 7;
    }
    return $s . pack('C', $v);
}

sub hpack_literal {
    my ($name, $value) = @_;
    return "\0" . hpack_int(length $name, 7, 0) . $name
                . hpack_int(length $value, 7, 0) . $value;
}

# Opens a stream: GET $path (headers => [name, value, ...]).  Returns its
# id.
sub get {
    my ($self, $path, %opt) = @_;
    my $id = $self->{next_id};
    $self->{next_id} += 2;
    my @h = (':method' => $opt{method} || 'GET',
             ':scheme' => $self->{scheme},
             ':authority' => "127.0.0.1:$self->{port}",
             ':path' => $path, @{ $opt{headers} || [] });
    my $block = '';
    while (my ($k, $v) = splice @h, 0, 2) {
        $block .= hpack_literal($k, $v);
    }
    $self->{streams}{$id} = { id => $id, path => $path, status => undef,
                              body => '', data => [], t_sent => time,
                              closed => 0 };
    $self->write_raw(frame(HEADERS, END_HEADERS | END_STREAM, $id, $block));
    return $id;
}

sub stream {
    $_[0]->{streams}{$_[1]};
}

# Cancels stream $id (RST_STREAM, CANCEL).
sub cancel {
    my ($self, $id) = @_;
    $self->write_raw(frame(RST_STREAM, 0, $id, pack('N', CANCEL)));
    my $s = $self->{streams}{$id};
    @$s{qw(closed cancelled t_end)} = (1, 1, time - $s->{t_sent});
}

# Drops the connection at once, with a reset (SO_LINGER 0).
sub abort {
    my $self = shift;
    setsockopt $self->{sock}, Socket::SOL_SOCKET(), Socket::SO_LINGER(),
               pack('II', 1, 0);
    CORE::close $self->{sock};
    $self->{gone} = 1;
}

sub close {
    my $self = shift;
    return if $self->{gone};
    eval { $self->write_raw(frame(GOAWAY, 0, 0, pack('NN', 0, 0))) };
    CORE::close $self->{sock};
    $self->{gone} = 1;
}

# Status of a response header block: the first field, when it is an
# indexed :status of the static table; 'other' when it is anything else.
sub block_status {
    my $block = shift;
    return 'none' unless length $block;
    my $b = ord $block;
    return 'other' unless $b & 0x80;
    return $static_status{$b & 0x7f} // 'other';
}

# Reads and handles frames until $cond->() is true or $deadline passes.
# Returns the value of $cond->(): false on timeout or when the server
# closed the connection (then {eof} is set).
sub run_until {
    my ($self, $deadline, $cond) = @_;
    my $sock = $self->{sock};
    my $sel = IO::Select->new($sock);
    while (1) {
        my $v = $cond->();
        return $v if $v;
        return 0 if $self->{eof} || $self->{gone};
        # A whole frame in the buffer?
        if (length $self->{in} >= 9) {
            my ($l1, $l2, $type, $flags, $id) = unpack 'nC C C N', $self->{in};
            my $len = ($l1 << 8) | $l2;
            $id &= 0x7fffffff;
            if (length $self->{in} >= 9 + $len) {
                substr $self->{in}, 0, 9, '';
                my $payload = substr $self->{in}, 0, $len, '';
                $self->handle($type, $flags, $id, $payload);
                next;
            }
        }
        my $left = $deadline - time;
        return 0 if $left <= 0;
        next unless $sock->can('pending') && $sock->pending
                    || $sel->can_read($left);
        my $n = sysread $sock, my $data, 65536;
        next if !defined $n && $!{EAGAIN};
        unless ($n) {
            $self->{eof} = 1;
            $self->{read_error} = "$!" unless defined $n;
            next;
        }
        $self->{in} .= $data;
    }
}

sub handle {
    my ($self, $type, $flags, $id, $payload) = @_;
    my $s = $self->{streams}{$id};
    my $now = time;
    if ($type == SETTINGS) {
        $self->write_raw(frame(SETTINGS, ACK, 0, '')) unless $flags & ACK;
    }
    elsif ($type == PING) {
        $self->write_raw(frame(PING, ACK, 0, $payload)) unless $flags & ACK;
    }
    elsif ($type == GOAWAY) {
        $self->{goaway} = [unpack 'NN', $payload];
    }
    elsif (!$s) {
        return;
    }
    elsif ($type == HEADERS || $type == CONTINUATION) {
        if ($type == HEADERS) {
            my $pad = 0;
            if ($flags & PADDED) {
                $pad = ord $payload;
                substr $payload, 0, 1, '';
            }
            substr $payload, 0, 5, '' if $flags & PRIORITY_FLAG;
            substr $payload, length($payload) - $pad, $pad, '' if $pad;
            $s->{block} = '';
            $s->{t_headers} //= $now - $s->{t_sent};
        }
        $s->{block} .= $payload;
        $s->{status} //= block_status($s->{block}) if $flags & END_HEADERS;
        $self->end($s, $now) if $flags & END_STREAM;
    }
    elsif ($type == DATA) {
        if ($flags & PADDED) {
            my $pad = ord $payload;
            $payload = substr $payload, 1, length($payload) - 1 - $pad;
        }
        $s->{body} .= $payload unless $s->{cancelled};
        push @{ $s->{data} }, [$now - $s->{t_sent}, length $payload]
            if length $payload;
        $self->end($s, $now) if $flags & END_STREAM;
    }
    elsif ($type == RST_STREAM) {
        $s->{reset} = unpack 'N', $payload;
        $self->end($s, $now);
    }
}

sub end {
    my ($self, $s, $now) = @_;
    return if $s->{closed};
    $s->{closed} = 1;
    $s->{t_end} = $now - $s->{t_sent};
    $s->{gap} = DialupTLS::max_gap($s->{data});
    t_debug(sprintf "h2 stream %d %s: status %s, %d body bytes in %.3f s, "
            . "%d DATA frames, largest gap %.3f s%s", $s->{id}, $s->{path},
            $s->{status} // 'none', length $s->{body}, $s->{t_end},
            scalar @{ $s->{data} }, $s->{gap},
            defined $s->{reset} ? ", RST_STREAM $s->{reset}" : '');
}

# Waits until all streams in @$ids are closed (timeout seconds).
sub wait_streams {
    my ($self, $timeout, @ids) = @_;
    return $self->run_until(time + $timeout, sub {
        !grep { !$self->{streams}{$_}{closed} } @ids;
    });
}

1;
