# Helpers shared by t/apache/suspend*.t: expected bodies of
# mod_suspend_test, a small raw HTTP/1.1 client (pipelining, HEAD, timing,
# truncated bodies, which LWP hides), many requests at once on
# non-blocking sockets, and a look at the server's processes, sockets and
# logs through /proc.
#
# Every wait here is bounded: a server that never answers makes a test
# fail after its timeout, never hang.

package SuspendTest;

use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestUtil qw(t_debug t_cmp);
use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK EINTR);
use IO::Select ();
use IO::Socket::INET ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time sleep);

use Exporter 'import';
our @EXPORT = qw(
    mpm expect_async expected_mode host port
    chunk expected_body suspend_url parse_info body_matches
    raw_get parallel_get
    parent_pid child_pids fd_counts fd_total tcp_states server_ports
    status_auto status_zero_within wait_for suspend_log log_lines
    quiet_server server_clean_ok
);

# Default bound on one response, seconds.
our $TIMEOUT = 20;

# When this file started, to the millisecond, for test/run-all's failure
# report, which shows the error log from then on (Test.pm's own "Current
# time" has whole seconds).
printf "# started at %.3f\n", time;

sub mpm {
    lc(Apache::Test::config()->{server}->{mpm} || '');
}

# Only the (patched) event MPM answers 1 to AP_MPMQ_CAN_SUSPEND.
sub expect_async {
    mpm() eq 'event';
}

sub expected_mode {
    expect_async() ? 'async' : 'sync';
}

sub host {
    '127.0.0.1';
}

sub port {
    Apache::Test::vars('port');
}

# Chunk $i (1-based) of $size bytes: "<i>" repeated, cut to $size.
sub chunk {
    my ($i, $size) = @_;
    my $unit = "<$i>";
    substr($unit x (int($size / length $unit) + 1), 0, $size);
}

sub expected_body {
    my ($steps, $size) = @_;
    join '', map { chunk($_, $size) } 1 .. $steps;
}

# suspend_url(steps => 3, delay => 100, ...) with a stable parameter order.
sub suspend_url {
    my %p = @_;
    '/suspend?' . join '&', map { "$_=$p{$_}" } sort keys %p;
}

# The info line mod_suspend_test appends with info=1, as a hash, or undef.
sub parse_info {
    my $body = shift;
    return undef unless defined $body && $body =~
        /suspend-test: mode=(\w+) callbacks=(\d+) threads=(\d+) resumed=(\w+)\n\z/;
    return { mode => $1, callbacks => $2 + 0, threads => $3 + 0,
             resumed => $4 };
}

# True if $got is exactly $want; says where they differ otherwise.
sub body_matches {
    my ($got, $want, $name) = @_;
    return 0 unless defined $got;
    return 1 if $got eq $want;
    my $i = 0;
    my $n = length $got < length $want ? length $got : length $want;
    $i++ while $i < $n && substr($got, $i, 1) eq substr($want, $i, 1);
    t_debug(sprintf "%s: body differs at byte %d (got %d bytes, want %d): "
            . "got '%s', want '%s'", $name || 'body', $i, length $got,
            length $want, substr($got, $i, 20), substr($want, $i, 20));
    return 0;
}

# ---------------------------------------------------------------------
# Raw HTTP/1.1 client on one connection.

package SuspendTest::Conn;

use Apache::TestUtil qw(t_debug t_cmp);
use Time::HiRes qw(time);

sub new {
    my ($class, %opt) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => SuspendTest::host(),
                                     PeerPort => SuspendTest::port(),
                                     Proto    => 'tcp',
                                     Timeout  => 10)
        or die "connect to " . SuspendTest::host() . ':'
               . SuspendTest::port() . ": $!\n";
    binmode $sock;
    return bless { sock => $sock, buf => '', eof => 0 }, $class;
}

sub sockport {
    $_[0]->{sock}->sockport;
}

# Request text: request('GET', '/x', version => '1.0', headers => [...]).
sub request_text {
    my ($self, $method, $path, %opt) = @_;
    my $version = $opt{version} || '1.1';
    my $text = "$method $path HTTP/$version\r\n"
             . 'Host: ' . SuspendTest::host() . ':' . SuspendTest::port()
             . "\r\n";
    my @h = @{ $opt{headers} || [] };
    while (my ($k, $v) = splice @h, 0, 2) {
        $text .= "$k: $v\r\n";
    }
    return "$text\r\n";
}

# Write all of $data in one go (one write call when it fits).
# t_sent is the time before the write: on a loaded machine this process
# may be descheduled right after it, and a time taken then would make
# the response look faster than it was.
sub send_raw {
    my ($self, $data) = @_;
    my $t = time;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite $self->{sock}, $data, length($data) - $off, $off;
        die "write: $!\n" unless defined $n;
        $off += $n;
    }
    $self->{t_sent} = $t;
}

sub send_request {
    my ($self, $method, $path, %opt) = @_;
    $self->send_raw($self->request_text($method, $path, %opt));
}

# Read what is there, waiting until $deadline (epoch seconds).  Returns
# the number of bytes read, 0 at EOF (or reset), undef on timeout.
sub fill {
    my ($self, $deadline) = @_;
    return 0 if $self->{eof};
    my $left = $deadline - time;
    return undef if $left <= 0;
    my $sel = IO::Select->new($self->{sock});
    return undef unless $sel->can_read($left);
    my $n = sysread $self->{sock}, my $data, 65536;
    if (!defined $n) {
        $self->{read_error} = "$!";
        $self->{eof} = 1;
        return 0;
    }
    if ($n == 0) {
        $self->{eof} = 1;
        return 0;
    }
    $self->{buf} .= $data;
    return $n;
}

# True if the server closed the connection within $secs, with nothing
# left unread.
sub closed_within {
    my ($self, $secs) = @_;
    my $deadline = time + $secs;
    while (!$self->{eof}) {
        last unless defined $self->fill($deadline);
    }
    return $self->{eof} && $self->{buf} eq '';
}

# True if no byte arrives within $secs (and the connection stays open).
sub quiet_for {
    my ($self, $secs) = @_;
    my $deadline = time + $secs;
    my $n = $self->fill($deadline);
    return !defined $n && $self->{buf} eq '';
}

# Try to decode a chunked body from $$buf at $pos.  Returns
# (done, body, end_pos); done is 0 when more data is needed.
sub decode_chunked {
    my ($buf, $pos) = @_;
    my $body = '';
    while (1) {
        my $eol = index $$buf, "\r\n", $pos;
        return (0, $body, $pos) if $eol < 0;
        my ($hex) = substr($$buf, $pos, $eol - $pos) =~ /^([0-9A-Fa-f]+)/;
        die "bad chunk size line\n" unless defined $hex;
        my $len = hex $hex;
        if ($len == 0) {
            # Last-chunk; no trailers expected, just the final CRLF.
            my $end = index $$buf, "\r\n\r\n", $eol;
            return (0, $body, $pos) if $end < 0;
            return (1, $body, $end + 4);
        }
        return (0, $body, $pos) if length($$buf) < $eol + 2 + $len + 2;
        $body .= substr $$buf, $eol + 2, $len;
        $pos = $eol + 2 + $len + 2;
    }
}

# Read one response.  Options: head => 1 (no body follows), timeout,
# quiet => 1 (no debug line about it).
# Returns a hash: status, headers (lower-case names), body (what arrived,
# dechunked), complete (body framing satisfied), eof (server closed),
# t_headers / elapsed (seconds since the request was sent, or since this
# call when nothing was sent on this object), error (text) when
# incomplete.
sub read_response {
    my ($self, %opt) = @_;
    my $t0 = $self->{t_sent} || time;
    my $deadline = time + ($opt{timeout} || $SuspendTest::TIMEOUT);
    my %res = (complete => 0, body => '', headers => {}, status => 0);

    my $end;
    until (($end = index $self->{buf}, "\r\n\r\n") >= 0) {
        my $n = $self->fill($deadline);
        unless ($n) {
            $res{error} = defined $n ? 'connection closed before headers'
                                     : 'timeout before headers';
            $res{eof} = $self->{eof};
            $res{elapsed} = time - $t0;
            return \%res;
        }
    }
    $res{t_headers} = time - $t0;
    my $head = substr $self->{buf}, 0, $end + 4, '';
    my ($status_line, @lines) = split /\r\n/, $head;
    ($res{version}, $res{status}) = $status_line =~ m{^HTTP/(\d\.\d) (\d{3})}
        or do { $res{error} = "bad status line '$status_line'"; return \%res };
    $res{status} += 0;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $res{headers}{$k} = exists $res{headers}{$k}
                          ? "$res{headers}{$k}, $v" : $v;
    }
    my $h = $res{headers};

    if ($opt{head} || $res{status} == 204 || $res{status} == 304
        || $res{status} < 200) {
        $res{complete} = 1;
    }
    elsif (($h->{'transfer-encoding'} || '') =~ /chunked/i) {
        while (1) {
            my ($done, $body, $pos) = decode_chunked(\$self->{buf}, 0);
            $res{body} = $body;
            if ($done) {
                substr $self->{buf}, 0, $pos, '';
                $res{complete} = 1;
                last;
            }
            my $n = $self->fill($deadline);
            unless ($n) {
                $res{error} = defined $n ? 'connection closed in chunked body'
                                         : 'timeout in chunked body';
                last;
            }
        }
    }
    elsif (defined $h->{'content-length'}) {
        my $want = $h->{'content-length'};
        while (length $self->{buf} < $want) {
            my $n = $self->fill($deadline);
            unless ($n) {
                $res{error} = (defined $n ? 'connection closed' : 'timeout')
                    . ' after ' . length($self->{buf}) . " of $want bytes";
                last;
            }
        }
        $res{body} = substr $self->{buf}, 0, $want, '';
        $res{complete} = length $res{body} == $want ? 1 : 0;
    }
    else {
        # Delimited by the end of the connection.
        while (1) {
            my $n = $self->fill($deadline);
            last if defined $n && $n == 0;
            unless (defined $n) {
                $res{error} = 'timeout before end of connection';
                last;
            }
        }
        $res{body} = $self->{buf};
        $self->{buf} = '';
        $res{complete} = $self->{eof} ? 1 : 0;
    }
    $res{eof} = $self->{eof};
    $res{elapsed} = time - $t0;
    delete $self->{t_sent};
    return \%res if $opt{quiet};
    t_debug("$status_line: " . length($res{body}) . " body bytes in "
            . sprintf('%.3f', $res{elapsed}) . ' s'
            . ($res{error} ? " ($res{error})" : ''));
    return \%res;
}

# Close at once with a reset (SO_LINGER 0): a client that goes away.
sub abort {
    my $self = shift;
    setsockopt $self->{sock}, Socket::SOL_SOCKET(), Socket::SO_LINGER(),
               pack('II', 1, 0);
    CORE::close $self->{sock};
}

# Close normally (FIN).
sub disconnect {
    my $self = shift;
    CORE::close $self->{sock};
}

package SuspendTest;

# One request on a new connection; returns read_response()'s hash, and
# the connection as {conn}.
sub raw_get {
    my ($path, %opt) = @_;
    my $method = $opt{method} || 'GET';
    my $res = eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request($method, $path, %opt);
        my $r = $c->read_response(head => $method eq 'HEAD', %opt);
        $r->{conn} = $c;
        $r;
    };
    return $res || { status => 0, error => $@, complete => 0, body => '',
                     headers => {} };
}

# Send one request per entry of @$paths, all at once, each on its own
# connection with "Connection: close", and wait for all of them.
# Options: timeout (overall), at => [[seconds, sub], ...] to run code
# while the requests are in flight.  Returns a list of hashes like
# read_response(), each with done (seconds since the start).
sub parallel_get {
    my ($paths, %opt) = @_;
    my $t0 = time;
    my $deadline = $t0 + ($opt{timeout} || $TIMEOUT);
    my @at = sort { $a->[0] <=> $b->[0] } @{ $opt{at} || [] };
    my (@st, %by_fd);
    my $rsel = IO::Select->new;
    my $wsel = IO::Select->new;

    for my $i (0 .. $#$paths) {
        my $sock = IO::Socket::INET->new(Proto => 'tcp', Blocking => 0);
        my $addr = Socket::pack_sockaddr_in(port(),
                                            Socket::inet_aton(host()));
        unless (connect($sock, $addr) || $! == EINPROGRESS) {
            push @st, { error => "connect: $!", status => 0, body => '',
                        headers => {}, complete => 0 };
            next;
        }
        my $req = "GET $paths->[$i] HTTP/1.1\r\nHost: " . host() . ':'
                . port() . "\r\nConnection: close\r\n\r\n";
        push @st, { sock => $sock, out => $req, raw => '' };
        $by_fd{fileno $sock} = $st[-1];
        $wsel->add($sock);
    }

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
        for my $sock (@{ $w || [] }) {
            my $s = $by_fd{fileno $sock};
            my $n = syswrite $sock, $s->{out};
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                $s->{error} = "write: $!";
                $wsel->remove($sock);
                next;
            }
            substr $s->{out}, 0, $n, '';
            if ($s->{out} eq '') {
                $wsel->remove($sock);
                $rsel->add($sock);
            }
        }
        for my $sock (@{ $r || [] }) {
            my $s = $by_fd{fileno $sock};
            my $n = sysread $sock, my $data, 65536;
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                $s->{error} = "read: $!";
            }
            elsif ($n > 0) {
                $s->{raw} .= $data;
                next;
            }
            $s->{eof} = 1;
            $s->{done} = time - $t0;
            $rsel->remove($sock);
            # Close at once: the server lingers until it sees our FIN.
            close delete $s->{sock};
        }
    }
    while (@at) {
        (shift @at)->[1]->();
    }

    for my $s (@st) {
        next unless exists $s->{raw};
        if ($s->{sock}) {
            $rsel->remove($s->{sock});
            $wsel->remove($s->{sock});
            close delete $s->{sock};
        }
        parse_raw($s);
        $s->{error} ||= 'timeout' unless $s->{eof};
    }
    return @st;
}

# Parse a whole response read until EOF into the read_response() fields.
sub parse_raw {
    my $s = shift;
    my $raw = delete $s->{raw};
    @$s{qw(status body headers complete)} = (0, '', {}, 0);
    my $end = index $raw, "\r\n\r\n";
    return if $end < 0;
    my ($status_line, @lines) = split /\r\n/, substr($raw, 0, $end);
    ($s->{status}) = $status_line =~ m{^HTTP/\d\.\d (\d{3})};
    $s->{status} ||= 0;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $s->{headers}{lc $k} = $v;
    }
    my $rest = substr $raw, $end + 4;
    if (($s->{headers}{'transfer-encoding'} || '') =~ /chunked/i) {
        my ($done, $body) = SuspendTest::Conn::decode_chunked(\$rest, 0);
        @$s{qw(body complete)} = ($body, $done ? 1 : 0);
    }
    elsif (defined(my $cl = $s->{headers}{'content-length'})) {
        @$s{qw(body complete)} = (substr($rest, 0, $cl),
                                  length $rest == $cl ? 1 : 0);
    }
    else {
        @$s{qw(body complete)} = ($rest, $s->{eof} ? 1 : 0);
    }
}

# ---------------------------------------------------------------------
# The server seen from outside.

sub parent_pid {
    my $file = Apache::Test::vars('t_pid_file');
    open my $fh, '<', $file or return undef;
    my $pid = <$fh>;
    return undef unless defined $pid && $pid =~ /(\d+)/;
    return $1;
}

# Live (not zombie) children of the httpd parent.
sub child_pids {
    my $ppid = parent_pid() or return ();
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh>;
        next unless defined $line
            && $line =~ /^(\d+) \(.*\) (\S) (\d+) /s;
        push @pids, $1 if $3 == $ppid && $2 ne 'Z';
    }
    return sort { $a <=> $b } @pids;
}

# { pid => open fd count } for the pids whose /proc/PID/fd is readable.
sub fd_counts {
    my %n;
    for my $pid (@_) {
        opendir my $dh, "/proc/$pid/fd" or next;
        $n{$pid} = grep { !/^\.\.?$/ } readdir $dh;
    }
    return \%n;
}

# { state name => count } of the server side's TCP sockets on local port
# @ports (default: the main port), from /proc/net/tcp and tcp6.
my %tcp_state = ('01' => 'ESTABLISHED', '02' => 'SYN_SENT',
                 '03' => 'SYN_RECV', '04' => 'FIN_WAIT1',
                 '05' => 'FIN_WAIT2', '06' => 'TIME_WAIT', '07' => 'CLOSE',
                 '08' => 'CLOSE_WAIT', '09' => 'LAST_ACK', '0A' => 'LISTEN',
                 '0B' => 'CLOSING');
sub tcp_states {
    my @ports = @_ ? @_ : (port());
    my $re = join '|', map { sprintf '%04X', $_ } @ports;
    my %n;
    for my $file ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $file or next;
        <$fh>;
        while (<$fh>) {
            my (undef, $local, undef, $st) = split;
            next unless defined $st && $local =~ /:(?:$re)$/;
            $n{ $tcp_state{$st} || $st }++;
        }
    }
    return \%n;
}

# /server-status?auto as { key => value }; {} when it cannot be read.
sub status_auto {
    my $r = raw_get('/server-status?auto', timeout => 10, quiet => 1,
                    headers => [Connection => 'close']);
    my %v;
    return \%v unless $r->{status} == 200;
    for (split /\n/, $r->{body}) {
        $v{$1} = $2 if /^([^:]+):\s*(.*?)\s*$/;
    }
    return \%v;
}

# Poll $cond every 100 ms for up to $secs; returns its first true value,
# or the false value of the last try.
sub wait_for {
    my ($secs, $cond) = @_;
    my $end = time + $secs;
    while (1) {
        my $v = $cond->();
        return $v if $v || time >= $end;
        sleep 0.1;
    }
}

# True when /server-status?auto says $key: 0 in $answers answers in a row
# (default 1) within $secs seconds.  DialupActive counts the downloads of
# the child that answers: several answers in a row cover both children
# (with keep-alive off, the children take turns at accept()).
sub status_zero_within {
    my ($secs, $key, $answers) = @_;
    $answers ||= 1;
    return wait_for($secs, sub {
        !grep { my $v = status_auto()->{$key}; !defined $v || $v != 0 }
            1 .. $answers;
    }) ? 1 : 0;
}

sub suspend_log {
    Apache::Test::vars('t_logs') . '/suspend_log';
}

# Lines of a log file matching $re.
sub log_lines {
    my ($file, $re) = @_;
    open my $fh, '<', $file or return ();
    return grep { /$re/ } <$fh>;
}

# Open descriptors now of the children in %$base (pid => count then), summed.
sub fd_total {
    my ($base) = @_;
    my $now = fd_counts(keys %$base);
    my $sum = 0;
    $sum += $now->{$_} for grep { exists $base->{$_} } keys %$now;
    return $sum;
}

# The ports the server listens on: the main one and those of the virtual
# hosts of t/conf/*.conf ("Define NAME_PORT N", see DialupTest's
# define_port()).
sub server_ports {
    my %p = (port() => 1);
    my $dir = Apache::Test::vars('t_conf');
    for my $conf (glob "$dir/*.conf") {
        open my $fh, '<', $conf or next;
        while (<$fh>) {
            $p{$1} = 1 if /^\s*Define\s+\w+_PORT\s+(\d+)\s*$/;
        }
    }
    return sort { $a <=> $b } keys %p;
}

# One look at the server for quiet_server(): what is not quiet, as a
# list of texts, and the children's descriptors.  The sockets are read
# before the status request, so that its own connection is not seen.
sub quiet_sample {
    my @left;
    my %busy = %{ tcp_states(server_ports()) };
    delete @busy{qw(LISTEN TIME_WAIT FIN_WAIT2)};
    push @left, join(' ', map { "$busy{$_} $_" } sort keys %busy)
                . ' socket(s) on the server ports' if %busy;
    my @kids = child_pids();
    my $fds = fd_counts(@kids);
    push @left, 'no child process' unless @kids;

    if (Apache::Test::have_module('status')) {
        my $st = status_auto();
        if (!%$st) {
            push @left, 'no answer from /server-status?auto';
        }
        else {
            # The status request itself keeps one worker busy.
            push @left, "BusyWorkers $st->{BusyWorkers}"
                if ($st->{BusyWorkers} || 0) > 1;
            for my $k (qw(ConnsAsyncSuspended Stopping DialupActive)) {
                push @left, "$k $st->{$k}" if $st->{$k};
            }
        }
    }
    return (\@left, $fds);
}

# Waits, up to $secs seconds (default 30), until the server is quiet:
# no connection of an earlier test on its ports (only listening sockets
# and closed ones in TIME_WAIT or FIN_WAIT2), and, where mod_status is
# loaded, no busy worker but the one answering, no suspended connection,
# no stopping child and no paced download (DialupActive, which counts
# the answering child's only); all that in three looks in a row, 0.25 s
# apart, with the same children and the same number of open descriptors
# in each.
#
# Returns { quiet => 1 or 0, fds => { child pid => open fds },
# left => what was not quiet at the last look, waited => seconds }.
# When the server is not quiet, a diag says what was left over: later
# checks against the baseline then skip (server_clean_ok() does), so that
# what an earlier file left behind does not fail this one.
sub quiet_server {
    my ($secs) = @_;
    $secs ||= 30;
    my $t0 = time;
    my ($good, $left, $fds, $last) = (0, [], {});
    while (1) {
        ($left, $fds) = quiet_sample();
        my $key = join ' ', map { "$_=$fds->{$_}" } sort keys %$fds;
        if (@$left) {
            $good = 0;
        }
        elsif ($good && $key eq $last) {
            $good++;
        }
        else {
            $good = 1;
        }
        $last = $key;
        last if $good >= 3 || time - $t0 >= $secs;
        sleep 0.25;
    }
    my %q = (quiet => $good >= 3 ? 1 : 0, fds => $fds,
             waited => time - $t0,
             left => @$left ? join('; ', @$left)
                            : 'descriptors of the children still changing');
    if ($q{quiet}) {
        t_debug(sprintf 'server quiet after %.1f s; children and open fds: %s',
                $q{waited}, $last);
        $q{left} = '';
    }
    else {
        # In the TAP and, on standard error, in the harness's output.
        my $msg = sprintf 'server not quiet after %.0f s, left over by an '
                . 'earlier test: %s', $q{waited}, $q{left};
        t_debug($msg);
        print STDERR "# $msg\n";
    }
    return \%q;
}

# After aborted or finished requests, the server is back to the baseline
# $q that quiet_server() took: no socket on its ports in CLOSE_WAIT, the
# children's descriptors back to their counts then, and, where requests
# suspend, no suspended connection left.  Three checks (two on worker and
# prefork), skipped when the server was not quiet at the baseline.
sub server_clean_ok {
    my ($q) = @_;
    my $base = $q->{fds};
    my $n = expect_async() ? 3 : 2;
    unless ($q->{quiet}) {
        Apache::Test::skip("server not quiet before the test ($q->{left})")
            for 1 .. $n;
        return;
    }
    my $base_sum = 0;
    $base_sum += $_ for values %$base;

    my @ports = server_ports();
    my $cw = wait_for(20, sub { !(tcp_states(@ports)->{CLOSE_WAIT} || 0) });
    t_debug('server port sockets: ' . join ' ', %{ tcp_states(@ports) });
    Apache::Test::ok(t_cmp($cw ? 1 : 0, 1, 'no socket left in CLOSE_WAIT'));

    my $fds = wait_for(20, sub { fd_total($base) <= $base_sum });
    my $now = fd_counts(keys %$base);
    t_debug("children and open fds after: "
            . join ' ', map { "$_=$now->{$_}" } sort keys %$now);
    Apache::Test::ok(t_cmp($fds && %$base ? 1 : 0, 1,
                           "descriptors of the children back to $base_sum "
                           . "(now " . fd_total($base) . ")"));

    if (expect_async()) {
        Apache::Test::ok(t_cmp(status_zero_within(20, 'ConnsAsyncSuspended'),
                               1, 'ConnsAsyncSuspended back to 0'));
    }
}

1;
