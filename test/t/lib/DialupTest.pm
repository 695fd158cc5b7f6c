# Helpers shared by t/modules/dialup*.t: the content of the generated test
# files, the size of a response on the wire (what mod_dialup paces), and
# the server side's sockets of a port.

package DialupTest;

use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestUtil qw(t_cmp);
use File::Path ();
use SuspendTest qw(body_matches);

use Exporter 'import';
our @EXPORT = qw(content wire paced_ok unpaced_ok served_ok
                 server_sockets define_port served_twice_ok
                 error_log_since
                 many_get within_ok line_log_of connid_conns
                 status_html lines_table send_body latency_note_ok
                 config_contexts config_cases_ok write_count_cgi);

# The first $n bytes of the test data: numbered 29-byte lines, so a
# misplaced byte shows where it came from.
sub content {
    my $n = shift;
    my $s = join '', map { sprintf "%07d mod_dialup test data\n", $_ }
                         0 .. int($n / 29) + 1;
    return substr $s, 0, $n;
}

my %reason = (200 => 'OK', 206 => 'Partial Content');

# The bytes of response $r on the wire: status line, headers, body.
sub wire {
    my $r = shift;
    my $n = length("HTTP/1.1 $r->{status} " . ($reason{$r->{status}} || '')
                   . "\r\n\r\n") + length $r->{body};
    $n += length("$_: $r->{headers}{$_}\r\n") for keys %{ $r->{headers} };
    return $n;
}

sub took {
    my $t = shift;
    return defined $t ? sprintf('%.3f', $t) : 'no answer';
}

# Response $r took about its bytes on the wire over $rate bit/s: between
# 0.8 and 1.5 times that, plus half a second.  One check.
sub paced_ok {
    my ($r, $name, $rate) = @_;
    my $ideal = wire($r) * 8 / $rate;
    my ($lo, $hi) = (0.8 * $ideal, 1.5 * $ideal + 0.5);
    my $t = $r->{elapsed};
    Apache::Test::ok(t_cmp(defined $t && $t >= $lo && $t <= $hi ? 1 : 0, 1,
                           sprintf "%s: paced at %d bit/s, %s s for %d bytes "
                           . "(expected %.2f..%.2f s)", $name, $rate,
                           took($t), wire($r), $lo, $hi));
}

# Response $r was not paced: it took less than $limit seconds.  One check.
sub unpaced_ok {
    my ($r, $name, $limit) = @_;
    my $t = $r->{elapsed};
    Apache::Test::ok(t_cmp(defined $t && $t < $limit ? 1 : 0, 1,
                           sprintf "%s: not paced, %s s (limit %.1f s)",
                           $name, took($t), $limit));
}

# Response $r is a 200 with body $data, paced at $rate bit/s, or not paced
# at all when $rate is 0 (at 160 kbit/s the test files would take a
# second).  Two checks.
sub served_ok {
    my ($r, $name, $data, $rate) = @_;
    Apache::Test::ok(t_cmp($r->{status} == 200
                           && body_matches($r->{body}, $data, $name)
                           ? 1 : 0, 1, "$name: 200, body exact"));
    if ($rate) {
        paced_ok($r, $name, $rate);
    }
    else {
        unpaced_ok($r, $name, 0.4);
    }
}

# The server side's TCP sockets on local port $port, from /proc/net/tcp:
# { client port => { state => 'ESTABLISHED' or the hex code, tx => bytes
# sent and not yet acknowledged } }.  A client port seen twice (an old
# connection in TIME_WAIT) gives its ESTABLISHED socket.
sub server_sockets {
    my $port = shift;
    my $hex = sprintf '%04X', $port;
    my %s;
    for my $file ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $file or next;
        <$fh>;
        while (<$fh>) {
            my (undef, $local, $remote, $st, $queues) = split;
            next unless defined $queues && $local =~ /:$hex$/
                && $remote =~ /:([0-9A-F]{4})$/;
            my $peer = hex $1;
            next if $s{$peer} && $s{$peer}{state} eq 'ESTABLISHED';
            my ($tx) = $queues =~ /^([0-9A-F]+):/;
            $s{$peer} = { state => $st eq '01' ? 'ESTABLISHED' : $st,
                          tx => hex $tx };
        }
    }
    return \%s;
}

# The port of a virtual host of ours: the value of "Define $name N" in the
# generated t/conf/*.conf.  Our virtual hosts are written so that
# Apache::Test leaves them alone (a "<VirtualHost module>" section gets a
# Listen on 0.0.0.0): "Define NAME @NextAvailablePort@", "Listen
# 127.0.0.1:${NAME}" and a lower-case "<virtualhost 127.0.0.1:${NAME}>".
sub define_port {
    my $name = shift;
    my $dir = Apache::Test::vars('t_conf');
    for my $conf (glob "$dir/*.conf") {
        open my $fh, '<', $conf or next;
        while (<$fh>) {
            return $1 if /^\s*Define\s+\Q$name\E\s+(\d+)\s*$/;
        }
    }
    die "no \"Define $name\" in $dir/*.conf\n";
}

# GET $path on a new keep-alive connection, then /health.txt on the same
# one.  The first response must be status $status with body $want, paced
# at $rate bit/s (at least 0.8 times the time its bytes take) if $paced,
# else in less than half that; the second must be answered.  Three checks.
sub served_twice_ok {
    my ($name, $path, $status, $want, $rate, $paced) = @_;
    my ($r, $again);
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request(GET => $path);
        $r = $c->read_response(timeout => 40);
        $c->send_request(GET => '/health.txt');
        $again = $c->read_response(timeout => 20);
        $c->disconnect;
    };
    Apache::TestUtil::t_debug("$name: error: $@") if $@;
    $r ||= { status => 0, body => '', headers => {} };
    $again ||= { status => 0, body => '', headers => {} };
    Apache::TestUtil::t_debug("$name: $path: " . ($r->{error} || 'complete'));

    Apache::Test::ok(t_cmp($r->{status} == $status && $r->{complete}
                           && body_matches($r->{body}, $want, $name)
                           ? 1 : 0, 1,
                           "$name: $status, body exact (got $r->{status}, "
                           . length($r->{body}) . ' bytes)'));

    my $t = $r->{elapsed};
    # The expected body and the headers that came (none if none came).
    my $ideal = (length($want) + ($r->{status}
                                  ? wire({ %$r, status => 200 })
                                    - length $r->{body} : 0)) * 8 / $rate;
    my $took = defined $t ? sprintf('%.3f', $t) : 'no answer';
    my $ok = defined $t && $r->{complete}
             && ($paced ? $t >= 0.8 * $ideal : $t < 0.5 * $ideal);
    Apache::Test::ok(t_cmp($ok ? 1 : 0, 1, $paced
                           ? sprintf("%s: paced, %s s (at least %.2f s)",
                                     $name, $took, 0.8 * $ideal)
                           : sprintf("%s: not paced, %s s (less than "
                                     . "%.2f s)", $name, $took,
                                     0.5 * $ideal)));

    Apache::Test::ok(t_cmp($again->{status} == 200
                           && $again->{body} eq "healthy\n" ? 1 : 0, 1,
                           "$name: a second request on the same connection "
                           . "answered (got $again->{status}"
                           . ($again->{error} ? ", $again->{error}" : '')
                           . ')'));
}

# The lines of error log $elog from byte offset $start on that match $re,
# each also shown with t_debug.
sub error_log_since {
    my ($elog, $start, $re) = @_;
    my @lines;
    if (open my $fh, '<', $elog) {
        seek $fh, $start, 0;
        @lines = grep { /$re/ } <$fh>;
    }
    Apache::TestUtil::t_debug("error log: $_") for @lines;
    return @lines;
}

# ---------------------------------------------------------------------
# Shared lines (issue 12): t/modules/dialup_line*.t.

# $got seconds (undef: no answer) are between $lo and $hi ($hi undef: no
# upper bound).  One check; its name says what was measured and expected.
sub within_ok {
    my ($got, $lo, $hi, $name) = @_;
    my $ok = defined $got && $got >= $lo && (!defined $hi || $got <= $hi);
    Apache::Test::ok(t_cmp($ok ? 1 : 0, 1, defined $hi
                           ? sprintf('%s: %s s (expected %.2f..%.2f s)',
                                     $name, took($got), $lo, $hi)
                           : sprintf('%s: %s s (expected at least %.2f s)',
                                     $name, took($got), $lo)));
}

# The requests of many_get() and DialupTest::Many's add(): each spec a
# hash of add()'s options.  Sends them all at once, each on its own
# connection, and waits for every response (options of pump(): timeout,
# at).  Returns their hashes, in order.
sub many_get {
    my ($specs, %opt) = @_;
    my $m = DialupTest::Many->new(timeout => $opt{timeout});
    $m->add(%$_) for @$specs;
    $m->pump(at => $opt{at});
    return @{ $m->{reqs} };
}

# The lines of t/logs/dialup_line_log (t/conf/dialup_line.conf.in:
# "%P %{dialup-line}n %{dialup-latency}n %{dialup}n %>s %m %U%q") whose
# path and query match $re, waiting up to $secs seconds (default 10) for
# $count of them (default 1): a paced request is logged after its last
# byte, which the client may have read a little before.  Returns hashes
# { pid, line, latency, link, status, method, uri }, in the log's order.
sub line_log_of {
    my ($re, $count, $secs) = @_;
    $count ||= 1;
    my $log = Apache::Test::vars('t_logs') . '/dialup_line_log';
    my @l;
    SuspendTest::wait_for($secs || 10, sub {
        @l = map {
            my @f = split ' ';
            @f == 7 && $f[6] =~ $re
                ? { pid => $f[0], line => $f[1], latency => $f[2],
                    link => $f[3], status => $f[4], method => $f[5],
                    uri => $f[6] }
                : ();
        } SuspendTest::log_lines($log, qr/\S/);
        @l >= $count;
    });
    Apache::TestUtil::t_debug("dialup_line_log: $_->{pid} $_->{line} "
                              . "$_->{latency} $_->{link} $_->{status} "
                              . "$_->{method} $_->{uri}") for @l;
    return @l;
}

# The log entry $e (line_log_of()) of a response that had $n round trips
# of $rtt_ms ms of latency applied: its %{dialup-latency}n is $n x
# $rtt_ms, give or take what a late timer adds, but short of one round
# trip more.  One check.
sub latency_note_ok {
    my ($e, $n, $rtt_ms, $name) = @_;
    my $v = $e ? $e->{latency} : 'no log line';
    my $ms = $n * $rtt_ms;
    Apache::Test::ok(t_cmp($v =~ /^\d+$/ && $v >= $ms - $rtt_ms / 10
                           && $v < $ms + $rtt_ms ? 1 : 0, 1,
                           "%{dialup-latency}n, $name: $v (expected $ms)"));
}

# $n keep-alive connections, each asked GET /connid of mod_suspend_test
# (all opened first, so that both children of event and worker can take
# some).  Returns ([SuspendTest::Conn, pid of the child serving it], ...)
# for those that answered.
sub connid_conns {
    my $n = shift;
    my @c = map { eval { SuspendTest::Conn->new } || () } 1 .. $n;
    my @out;
    for my $c (@c) {
        eval { $c->send_request(GET => '/connid') };
    }
    for my $c (@c) {
        my $r = eval { $c->read_response(timeout => 20, quiet => 1) };
        if ($r && $r->{status} == 200 && $r->{body} =~ /^pid=(\d+) /) {
            push @out, [$c, $1];
        }
        else {
            eval { $c->disconnect };
        }
    }
    return @out;
}

# $method $path with the request body $body (Content-Length, text/plain)
# on a new keep-alive connection: read_response()'s hash, timed from
# before the request was written (elapsed), with the connection as
# {conn}.  Options: timeout (default 30).
sub send_body {
    my ($method, $path, $body, %opt) = @_;
    my $r = eval {
        my $c = SuspendTest::Conn->new;
        $c->send_raw($c->request_text($method, $path, headers => [
                         'Content-Length' => length $body,
                         'Content-Type' => 'text/plain'])
                     . $body);
        my $res = $c->read_response(timeout => $opt{timeout} || 30);
        $res->{conn} = $c;
        $res;
    };
    Apache::TestUtil::t_debug("$method $path: error: $@") if $@;
    return $r || { status => 0, body => '', headers => {}, error => $@ };
}

# The HTML page of /server-status, '' when it cannot be read.
sub status_html {
    my $r = SuspendTest::raw_get('/server-status', timeout => 10,
                                 quiet => 1,
                                 headers => [Connection => 'close']);
    return $r->{status} == 200 ? $r->{body} : '';
}

# The rows of mod_dialup's table of the lines in use in the HTML page
# $html of server-status (after "N of M client lines in use"; columns
# Client, Line (bit/s), Downloads, Bytes sent, Each (bit/s)):
# ([cell, ...], ...), the cells' text without tags, HTML entities
# decoded.  () when the page has no such table.
sub lines_table {
    my $html = shift;
    # (up to the end of the table, or of the section when none follows)
    my ($table) = $html =~ m{lines in use(.*?)(?:</table>|<hr|\z)}si
        or return ();
    my @rows;
    for my $tr ($table =~ m{<tr>(.*?)</tr>}sg) {
        my @cells = $tr =~ m{<td[^>]*>(.*?)</td>}sg or next;
        for (@cells) {
            s/<[^>]*>//g;
            s/&lt;/</g;
            s/&gt;/>/g;
            s/&quot;/"/g;
            s/&#39;/'/g;
            s/&amp;/&/g;
            s/^\s+|\s+$//g;
        }
        push @rows, \@cells;
    }
    return @rows;
}

# Write a CGI script to $path that reads the request body and answers
# with its length and MD5 ("LENGTH MD5\n"), for the uplink tests.
sub write_count_cgi {
    my ($path) = @_;
    Apache::TestUtil::t_write_file($path, <<"EOF");
#!$^X
# Written by the mod_dialup tests (DialupTest::write_count_cgi()): reads
# the request body, answers with its length and MD5.
use strict;
use Digest::MD5 ();
binmode STDIN;
binmode STDOUT;
my \$want = \$ENV{CONTENT_LENGTH} || 0;
my \$got = '';
while (length \$got < \$want) {
    my \$n = read STDIN, my \$b, 65536;
    last unless \$n;
    \$got .= \$b;
}
print "Content-Type: text/plain\\n\\n", length(\$got), ' ',
      Digest::MD5::md5_hex(\$got), "\\n";
EOF
    chmod 0755, $path or die "chmod $path: $!";
}

# Where config_cases_ok() puts a directive: server config, <VirtualHost>,
# <Directory>, <Location>, <Files> (.htaccess: see dialup_inherit.t), as
# name => [opening, closing].
sub config_contexts {
    return (
        server    => ['', ''],
        vhost     => ["<VirtualHost 127.0.0.1:1>\n"
                      . "    ServerName vhost.test\n", "</VirtualHost>\n"],
        Directory => ["<Directory \"/nonexistent/dialup\">\n",
                      "</Directory>\n"],
        Location  => ["<Location \"/dialup/\">\n", "</Location>\n"],
        Files     => ["<Files \"*.txt\">\n", "</Files>\n"],
    );
}

# "httpd -t" of small configs, one per case, each in a file of its own in
# t/logs/$name/ that loads only this run's MPM and mod_dialup: every
# [directive, value, context, want] of $bad must fail with a message
# (the line after "AH00526: Syntax error") that matches want, every
# [directive, value, context] of $good must pass.  $context maps a
# context name to the [opening, closing] lines around the directive.
# One ok() per case.
sub config_cases_ok {
    my ($name, $context, $bad, $good) = @_;
    my $cfg = Apache::Test::config();
    my $httpd = Apache::Test::vars('httpd');
    my $mpm = $cfg->{server}{mpm} || 'event';
    my $libexec = eval { `"$cfg->{vars}{apxs}" -q libexecdir 2>/dev/null` }
                  || '';
    my $dir = Apache::Test::vars('t_logs') . "/$name";
    my $n = 0;

    chomp $libexec;
    # the shared object of a module, or undef when it is built in
    my $so_of = sub {
        my $p = $cfg->{modules}{"mod_$_[0].c"};
        return $p if defined $p && $p =~ m{/} && -f $p;
        my $f = "$libexec/mod_$_[0].so";
        return -f $f ? $f : undef;
    };
    my $dialup_so = $so_of->('dialup');
    my $mpm_so = $so_of->("mpm_$mpm");
    Apache::TestUtil::t_debug("httpd $httpd, mod_dialup "
                              . ($dialup_so || 'built in') . ", MPM $mpm "
                              . ($mpm_so || 'built in'));
    File::Path::rmtree($dir);
    File::Path::mkpath($dir);

    my $config_test = sub {
        my ($directive, $value, $ctx) = @_;
        my ($open, $close) = @{ $context->{$ctx} };
        my $file = sprintf '%s/case%03d.conf', $dir, ++$n;
        open my $fh, '>', $file or die "$file: $!";
        print $fh <<EOF;
# $name case $n: $directive $value in $ctx
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:1
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
ErrorLog "$dir/error_log"
EOF
        print $fh "LoadModule mpm_${mpm}_module \"$mpm_so\"\n" if $mpm_so;
        print $fh "LoadModule dialup_module \"$dialup_so\"\n" if $dialup_so;
        print $fh "${open}    $directive $value\n$close";
        close $fh;
        my $out = `"$httpd" -d "$dir" -f "$file" -t 2>&1`;
        return ($? >> 8, $out);
    };

    for my $case (@$bad) {
        my ($directive, $value, $ctx, $want) = @$case;
        my ($rc, $out) = $config_test->(@$case);
        # (the message is the line after "AH00526: Syntax error on line N")
        my ($msg) = $out =~ /^(\Q$directive\E\b.*)$/m;
        $msg = "httpd -t exited with $rc: $out" if $rc == 0 || !defined $msg;
        Apache::Test::ok(t_cmp($msg, $want,
                               "$directive $value ($ctx): httpd -t fails"));
    }
    for my $case (@$good) {
        my ($directive, $value, $ctx) = @$case;
        my ($rc, $out) = $config_test->(@$case);
        chomp $out;
        Apache::Test::ok(t_cmp("$rc $out", '0 Syntax OK',
                               "$directive $value ($ctx): passes"));
    }
}

# ---------------------------------------------------------------------
# Many requests at once, each on a connection of its own (a new one, or
# one given), read in one select() loop; more may be added while the
# others are in flight:
#
#     my $m = DialupTest::Many->new(timeout => 30);
#     my $a = $m->add(path => '/dialup/line/shared/big.txt');
#     $m->pump(until => sub { time - $t0 > 1 });  # A is in flight
#     my $b = $m->add(path => ...);
#     $m->pump;                                   # until both are done
#
# Every wait is bounded by the timeout (seconds from new()).

package DialupTest::Many;

use Apache::TestUtil qw(t_debug);
use IO::Select ();
use Time::HiRes qw(time);

sub new {
    my ($class, %opt) = @_;
    my $t0 = time;
    return bless { t0 => $t0, deadline => $t0 + ($opt{timeout} || 30),
                   reqs => [] }, $class;
}

# Sends one request.  Options: path, method (GET), headers => [name,
# value, ...], body (sent with a Content-Length), conn (a
# SuspendTest::Conn to send it on, kept open afterwards), keep => 1 (keep
# the new connection open: no "Connection: close"), name (for the debug
# lines; default the path).  Returns the request's hash, filled in as
# its response comes: status, headers (lower-case names), body, complete,
# error, start (seconds from new() to the request), t_first (from the
# request to the first byte of the response), t_headers (to the end of
# its headers), elapsed (to the end of the response), done (from new()
# to the end), conn.
sub add {
    my ($self, %opt) = @_;
    my $method = $opt{method} || 'GET';
    my $s = { name => $opt{name} || $opt{path}, method => $method,
              status => 0, headers => {}, body => '', complete => 0,
              keep => $opt{keep} || $opt{conn} ? 1 : 0 };
    push @{ $self->{reqs} }, $s;
    my @h = @{ $opt{headers} || [] };
    push @h, Connection => 'close' unless $s->{keep};
    push @h, 'Content-Length' => length $opt{body} if defined $opt{body};
    eval {
        my $c = $opt{conn} || SuspendTest::Conn->new;
        $s->{conn} = $c;
        # Anything left of an earlier response would be taken for this one.
        die "unread bytes on the connection\n" if $c->{buf} ne '';
        $c->send_raw($c->request_text($method, $opt{path}, headers => \@h)
                     . (defined $opt{body} ? $opt{body} : ''));
        $s->{t_sent} = $c->{t_sent};
        delete $c->{t_sent};
        $s->{start} = $s->{t_sent} - $self->{t0};
    };
    if ($@) {
        chomp(my $e = $@);
        $self->finish($s, "request: $e");
    }
    return $s;
}

# The request $s is over: complete, or not ($error).
sub finish {
    my ($self, $s, $error) = @_;
    my $now = time;
    $s->{finished} = 1;
    if ($error) {
        $s->{error} = $error;
        $s->{body} = $s->{conn}{buf} if $s->{conn} && !$s->{complete}
                                        && $s->{head_done};
    }
    $s->{elapsed} = $now - $s->{t_sent} if defined $s->{t_sent};
    $s->{done} = $now - $self->{t0};
    if ($s->{conn} && (!$s->{keep} || $error)) {
        eval { $s->{conn}->disconnect };
    }
    t_debug(sprintf '%s: %s, %d body bytes, started at %.3f s, first byte '
            . 'after %s s, done after %s s%s', $s->{name}, $s->{status},
            length $s->{body}, $s->{start} || 0,
            defined $s->{t_first} ? sprintf('%.3f', $s->{t_first}) : '-',
            defined $s->{elapsed} ? sprintf('%.3f', $s->{elapsed}) : '-',
            $error ? " ($error)" : '');
}

# Takes the response of $s from its connection's buffer when it is all
# there (the bytes of a later response stay).
sub parse {
    my ($self, $s) = @_;
    my $c = $s->{conn};
    unless ($s->{head_done}) {
        my $end = index $c->{buf}, "\r\n\r\n";
        return if $end < 0;
        my ($line, @lines) = split /\r\n/, substr($c->{buf}, 0, $end + 4, '');
        unless ($line =~ m{^HTTP/\d\.\d (\d{3})}) {
            $self->finish($s, "bad status line '$line'");
            return;
        }
        $s->{status} = $1 + 0;
        for (@lines) {
            my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
            $k = lc $k;
            $s->{headers}{$k} = exists $s->{headers}{$k}
                              ? "$s->{headers}{$k}, $v" : $v;
        }
        $s->{head_done} = 1;
        $s->{t_headers} = time - $s->{t_sent};
    }
    my $h = $s->{headers};
    if ($s->{method} eq 'HEAD' || $s->{status} < 200
        || $s->{status} == 204 || $s->{status} == 304) {
        $s->{complete} = 1;
    }
    elsif (($h->{'transfer-encoding'} || '') =~ /chunked/i) {
        my ($done, $body, $pos) =
            eval { SuspendTest::Conn::decode_chunked(\$c->{buf}, 0) };
        unless (defined $done) {
            $self->finish($s, 'bad chunked body');
            return;
        }
        return unless $done;
        substr $c->{buf}, 0, $pos, '';
        $s->{body} = $body;
        $s->{complete} = 1;
    }
    elsif (defined $h->{'content-length'}) {
        my $want = $h->{'content-length'};
        return if length $c->{buf} < $want;
        $s->{body} = substr $c->{buf}, 0, $want, '';
        $s->{complete} = 1;
    }
    elsif ($c->{eof}) {
        $s->{body} = $c->{buf};
        $c->{buf} = '';
        $s->{complete} = 1;
    }
    $self->finish($s) if $s->{complete};
}

# Runs the loop until until->() is true (checked at least every 50 ms),
# every request is over, or the timeout passed (then those not over end
# with the error "timeout").  at => [[seconds from new(), sub], ...]:
# code run once that time has come (all of it, at the latest before
# pump() returns).
sub pump {
    my ($self, %opt) = @_;
    my @at = sort { $a->[0] <=> $b->[0] } @{ $opt{at} || [] };
    while (1) {
        while (@at && time - $self->{t0} >= $at[0][0]) {
            (shift @at)->[1]->();
        }
        my @open = grep { !$_->{finished} } @{ $self->{reqs} };
        last if !@open || ($opt{until} && $opt{until}->());
        if (time >= $self->{deadline}) {
            $self->finish($_, 'timeout') for @open;
            last;
        }
        my $sel = IO::Select->new(map { $_->{conn}{sock} } @open);
        my %by = map { fileno($_->{conn}{sock}) => $_ } @open;
        for my $sock ($sel->can_read(0.05)) {
            my $s = $by{fileno $sock};
            my $n = $s->{conn}->fill(time + 1);
            next unless defined $n;
            $s->{t_first} = time - $s->{t_sent}
                if $n && !defined $s->{t_first};
            $self->parse($s);
            if (!$s->{finished} && $s->{conn}{eof}) {
                $self->finish($s, $s->{conn}{read_error}
                              ? "read: $s->{conn}{read_error}"
                              : 'connection closed');
            }
        }
    }
    while (@at) {
        (shift @at)->[1]->();
    }
}

package DialupTest;

1;
