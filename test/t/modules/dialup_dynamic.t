# mod_dialup around handlers other than the core's (issue 11): its
# handler runs whichever handler serves the request and paces what that
# one writes.  Configured in t/conf/dialup_dynamic.conf.in, at 160k
# (20000 bytes a second) unless said otherwise:
#
# - a CGI script printing 40 KB (dialup/dyn/cgi/): byte-exact, paced, and
#   the keep-alive connection reused after it;
# - a streaming CGI that prints a line every 300 ms: each line reaches the
#   client when it is printed (flushes go as soon as the schedule allows),
#   not all at the end;
# - mod_proxy_http to a virtual host of the same server (40 KB, not paced
#   on the backend): byte-exact, paced, connection reused, and its 206 to
#   a Range request paced too; at 400 bit/s
#   (dialup/dyn/proxyslow/) the backend's 304 and 404, and HEAD, at once,
#   while a 200 is paced;
# - mod_deflate's output: paced on the compressed bytes with
#   Accept-Encoding: gzip (and decompressing to the file), on the whole
#   file without;
# - a POST to a CGI that reads the request body and answers 30 KB: exact,
#   paced, the connection reused;
# - at 400 bit/s (dialup/dyn/slow/, 50 bytes a second), what goes out at
#   once: HEAD of a CGI, 304 (static file, and a CGI's own ETag), 404
#   (static, and a missing CGI script), a CGI's "Status: 500"; and, as a
#   control, a GET of a CGI there is paced.
#
# The X-Dialup-Modem header and the notes are in dialup_dynamic_header.t,
# the buffering of a large proxied response in dialup_dynamic_held.t.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use Apache::TestUtil qw(t_write_perl_script);
use SuspendTest;
use DialupTest;
use Time::HiRes qw(time);

plan tests => 48, need need_module('dialup'), need_cgi();

my $rate = 160_000;             # bit/s in dialup/dyn/cgi/, proxy/, deflate/
my $slow = 400;                 # bit/s in dialup/dyn/slow/
my $fast = 2.0;                 # seconds: "at once" in dialup/dyn/slow/
my $docroot = Apache::Test::vars('documentroot');
my $dyn = "$docroot/dialup/dyn";

# --- the files -------------------------------------------------------------

# A CGI script that prints content(size) (DialupTest's numbered lines),
# after the headers asked for in the query string (status, modem for an
# X-Dialup-Modem header, etag); for a POST, first a line saying how many
# bytes of request body it read and their checksum.
my $data_pl = <<'EOF';
use strict;
use warnings;
my %q = map { /^([^=]*)=(.*)$/ ? ($1, $2) : () }
        split /&/, $ENV{QUERY_STRING} || '';
my $size = $q{size} || 0;
my $prefix = '';
if (($ENV{REQUEST_METHOD} || '') eq 'POST') {
    binmode STDIN;
    my ($want, $in) = ($ENV{CONTENT_LENGTH} || 0, '');
    while (length $in < $want) {
        my $n = read STDIN, $in, $want - length $in, length $in;
        last unless $n;
    }
    $prefix = sprintf "read %d bytes, checksum %d\n", length $in,
                      unpack('%32C*', $in);
}
binmode STDOUT;
print "Content-Type: text/plain\n";
print "Status: $q{status} From The Script\n" if $q{status};
print "X-Dialup-Modem: $q{modem}\n" if defined $q{modem};
print "ETag: \"$q{etag}\"\n" if $q{etag};
print "\n";
my $s = join '', map { sprintf "%07d mod_dialup test data\n", $_ }
                 0 .. int($size / 29) + 1;
print $prefix, substr($s, 0, $size);
EOF

# A CGI script that prints a line, then sleeps 300 ms, ten times, with
# each print written at once ($|).
my $lines = 10;
my $stream_pl = <<'EOF';
use strict;
use warnings;
use Time::HiRes qw(sleep);
$| = 1;
binmode STDOUT;
print "Content-Type: text/plain\n\n";
for my $i (1 .. 10) {
    printf "stream line %02d: %s\n", $i, 'x' x 40;
    sleep 0.3;
}
EOF
my $stream_body = join '', map { sprintf "stream line %02d: %s\n", $_, 'x' x 40 }
                           1 .. $lines;

t_write_perl_script("$dyn/cgi/data.pl", $data_pl);
t_write_perl_script("$dyn/cgi/stream.pl", $stream_pl);
t_write_perl_script("$dyn/slow/cgi/data.pl", $data_pl);

my $data40 = content(40_000);
t_write_file("$dyn/backend/f40k.txt", $data40);
t_write_file("$dyn/backend/small.txt", content(2_000));
t_write_file("$dyn/slow/small.txt", content(2_000));

# Compressible text, but not too much (about 4.5 to 1 with gzip): pseudo-
# random words from a list of 256, numbered lines.
my @words = map { my $x = $_;
                  join '', map { chr(97 + (($x * 7 + $_ * 13 + $x * $_ * 5) % 26)) }
                               0 .. 3 + $x % 6 } 0 .. 255;
my ($seed, $text, $i) = (12345, '', 0);
while (length $text < 100 * 1024) {
    $text .= sprintf '%05d', $i++;
    for (1 .. 9) {
        $seed = ($seed * 1103515245 + 12345) % 2147483648;
        $text .= ' ' . $words[($seed >> 16) & 255];
    }
    $text .= "\n";
}
$text = substr $text, 0, 100 * 1024;
t_write_file("$dyn/deflate/text.txt", $text);

# --- helpers ---------------------------------------------------------------

# One request on a new connection, closed afterwards.
sub get {
    my ($method, $path, @headers) = @_;
    my $r = raw_get($path, method => $method, headers => \@headers,
                    timeout => 20);
    $r->{conn}->disconnect if $r->{conn};
    return $r;
}

# ok() for a response that must go out at once.
sub fast_ok {
    my ($r, $name) = @_;
    my $t = $r->{elapsed};
    ok t_cmp(defined $t && $r->{complete} && $t < $fast ? 1 : 0, 1,
             sprintf "%s: at once (%s s, limit %.1f s)", $name,
             defined $t ? sprintf('%.3f', $t) : 'no answer', $fast);
}

# --- a CGI script ----------------------------------------------------------

{
    my $path = '/dialup/dyn/cgi/data.pl?size=40000';
    served_ok(get(GET => $path), 'CGI 40 KB', $data40, $rate);
    served_twice_ok('CGI 40 KB, keep-alive', $path, 200, $data40, $rate, 1);
}

# --- a streaming CGI script ------------------------------------------------

{
    my $name = 'streaming CGI';
    my (%at, $t0, $r);
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request(GET => '/dialup/dyn/cgi/stream.pl',
                         headers => [Connection => 'close']);
        $t0 = $c->{t_sent};
        my $deadline = time + 20;
        while (!$c->{eof}) {
            last unless defined $c->fill($deadline);
            for my $i (grep { !exists $at{$_} } 1 .. $lines) {
                $at{$i} = time - $t0
                    if index($c->{buf}, sprintf 'stream line %02d:', $i) >= 0;
            }
        }
        $r = { raw => $c->{buf}, eof => $c->{eof} };
        SuspendTest::parse_raw($r);
        $r->{elapsed} = time - $t0;
        $c->disconnect;
    };
    t_debug("$name: error: $@") if $@;
    $r ||= { status => 0, body => '', complete => 0 };
    t_debug(sprintf "%s: line %d at %.3f s", $name, $_, $at{$_})
        for sort { $a <=> $b } keys %at;

    ok t_cmp($r->{status} == 200 && $r->{complete}
             && body_matches($r->{body}, $stream_body, $name) ? 1 : 0, 1,
             "$name: 200, body exact (got $r->{status}, "
             . length($r->{body}) . ' bytes)');
    my ($first, $last) = ($at{1}, $at{$lines});
    ok t_cmp(defined $first && $first < 1.5 ? 1 : 0, 1,
             sprintf "%s: the first line within 1.5 s (at %s s)", $name,
             defined $first ? sprintf('%.3f', $first) : 'never');
    ok t_cmp(defined $r->{elapsed} && $r->{elapsed} >= 2.5 ? 1 : 0, 1,
             sprintf "%s: the whole response in at least 2.5 s, as the "
             . "script takes 3 s (%.3f s)", $name, $r->{elapsed} || 0);
    ok t_cmp(defined $first && defined $last && $last - $first >= 1.5
             ? 1 : 0, 1,
             sprintf "%s: the first line at least 1.5 s before the last "
             . "(%s s apart)", $name,
             defined $first && defined $last
             ? sprintf('%.3f', $last - $first) : 'not both seen');
    my $early = defined $last
                ? grep { $at{$_} < $last - 0.5 } keys %at : 0;
    ok t_cmp($early >= 5 ? 1 : 0, 1,
             "$name: lines delivered as printed, at least 5 of them more "
             . "than 0.5 s before the last ($early)");
}

# --- mod_proxy_http --------------------------------------------------------

if (have_module('proxy_http')) {
    my $path = '/dialup/dyn/proxy/f40k.txt';
    served_ok(get(GET => $path), 'proxied 40 KB', $data40, $rate);
    served_twice_ok('proxied 40 KB, keep-alive', $path, 200, $data40, $rate,
                    1);

    # The backend's 206 to a Range request is paced too.
    my $range = get(GET => $path, Range => 'bytes=10000-29999');
    ok t_cmp($range->{status} == 206
             && body_matches($range->{body}, substr($data40, 10_000, 20_000),
                             'proxied Range')
             ? 1 : 0, 1,
             "proxied Range: 206, the 20000 bytes exact (got "
             . "$range->{status}, " . length($range->{body}) . ' bytes)');
    # (wire() counts a 206 as such)
    paced_ok($range, 'proxied Range', $rate);

    # At 400 bit/s (dialup/dyn/proxyslow/).  The control: a 200 is paced,
    # not complete after 1.5 s (then the client goes away).
    my $r = raw_get('/dialup/dyn/proxyslow/small.txt', timeout => 1.5);
    t_debug('proxied 200 at 400 bit/s: ' . ($r->{error} || 'complete'));
    $r->{conn}->abort if $r->{conn};
    ok t_cmp($r->{complete} ? 1 : 0, 0,
             'proxied 200 at 400 bit/s (control): not complete within 1.5 s');

    $r = get(HEAD => '/dialup/dyn/proxyslow/small.txt');
    ok t_cmp($r->{status} == 200 && $r->{body} eq '' ? 1 : 0, 1,
             "proxied HEAD: 200, no body (got $r->{status})");
    fast_ok($r, 'proxied HEAD');
    my $etag = $r->{headers}{etag} || '"none"';

    $r = get(GET => '/dialup/dyn/proxyslow/small.txt',
             'If-None-Match' => $etag);
    ok t_cmp($r->{status}, 304, "proxied, the backend's 304");
    fast_ok($r, "proxied, the backend's 304");

    $r = get(GET => '/dialup/dyn/proxyslow/missing.txt');
    ok t_cmp($r->{status}, 404, "proxied, the backend's 404");
    fast_ok($r, "proxied, the backend's 404");
}
else {
    skip 'mod_proxy_http is not loaded' for 1 .. 14;
}

# --- mod_deflate -----------------------------------------------------------

if (have_module('deflate')) {
    require IO::Uncompress::Gunzip;
    my $name = 'deflate, gzip';
    my $r = get(GET => '/dialup/dyn/deflate/text.txt',
                'Accept-Encoding' => 'gzip');
    my $plain = '';
    IO::Uncompress::Gunzip::gunzip(\$r->{body} => \$plain)
        if length $r->{body};
    t_debug(sprintf "%s: %d bytes compressed, %d uncompressed", $name,
            length $r->{body}, length $plain);
    ok t_cmp($r->{status} == 200
             && ($r->{headers}{'content-encoding'} || '') eq 'gzip'
             && body_matches($plain, $text, $name) ? 1 : 0, 1,
             "$name: 200, Content-Encoding gzip, decompressed exact (got "
             . "$r->{status}, " . length($r->{body}) . ' bytes)');
    # What goes on the wire is the compressed body.
    paced_ok($r, "$name (compressed bytes)", $rate);
    my $full = length($text) * 8 / $rate;
    ok t_cmp(defined $r->{elapsed} && length $r->{body}
             && $r->{elapsed} < 0.5 * $full ? 1 : 0, 1,
             sprintf "%s: less than half the %.2f s of the uncompressed "
             . "size (%.3f s)", $name, $full, $r->{elapsed} || 0);

    $r = get(GET => '/dialup/dyn/deflate/text.txt');
    ok t_cmp(exists $r->{headers}{'content-encoding'} ? 1 : 0, 0,
             'deflate, no Accept-Encoding: not compressed');
    served_ok($r, 'deflate, no Accept-Encoding', $text, $rate);
}
else {
    skip 'mod_deflate is not loaded' for 1 .. 6;
}

# --- POST to a CGI ---------------------------------------------------------

{
    my $name = 'POST to a CGI';
    my $in = join '', map { chr(32 + ($_ * 7) % 95) } 1 .. 10_000;
    my $want = sprintf("read %d bytes, checksum %d\n", length $in,
                       unpack('%32C*', $in)) . content(30_000);
    my ($r, $again);
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_raw($c->request_text(
                         POST => '/dialup/dyn/cgi/data.pl?size=30000',
                         headers => ['Content-Type' => 'text/plain',
                                     'Content-Length' => length $in])
                     . $in);
        $r = $c->read_response(timeout => 20);
        $c->send_request(GET => '/health.txt');
        $again = $c->read_response(timeout => 20);
        $c->disconnect;
    };
    t_debug("$name: error: $@") if $@;
    $r ||= { status => 0, body => '', headers => {}, complete => 0 };
    $again ||= { status => 0, body => '' };
    ok t_cmp($r->{status} == 200 && $r->{complete}
             && body_matches($r->{body}, $want, $name) ? 1 : 0, 1,
             "$name: 200, the request body read, response body exact (got "
             . "$r->{status}, " . length($r->{body}) . ' bytes)');
    paced_ok($r, $name, $rate);
    ok t_cmp($again->{status} == 200 && $again->{body} eq "healthy\n"
             ? 1 : 0, 1,
             "$name: a second request on the same connection answered "
             . "(got $again->{status})");
}

# --- what is not paced, at 400 bit/s ---------------------------------------

{
    # The control: a CGI's headers alone take seconds here.
    my $r = get(GET => '/dialup/dyn/slow/cgi/data.pl?size=0');
    paced_ok($r, 'slow CGI, empty body (control)', $slow);

    $r = get(HEAD => '/dialup/dyn/slow/cgi/data.pl?size=2000');
    ok t_cmp($r->{status} == 200 && $r->{body} eq '' ? 1 : 0, 1,
             "HEAD of a CGI: 200, no body (got $r->{status})");
    fast_ok($r, 'HEAD of a CGI');

    # The validators of the static file, from a HEAD (at once, above).
    my $head = get(HEAD => '/dialup/dyn/slow/small.txt');
    my $etag = $head->{headers}{etag} || '"none"';
    my $lm = $head->{headers}{'last-modified'} || 'Thu, 01 Jan 1970 00:00:00 GMT';
    t_debug("small.txt: ETag $etag, Last-Modified $lm");

    $r = get(GET => '/dialup/dyn/slow/small.txt', 'If-None-Match' => $etag);
    ok t_cmp($r->{status}, 304, 'static file, If-None-Match: 304');
    fast_ok($r, 'static file, If-None-Match');

    $r = get(GET => '/dialup/dyn/slow/small.txt', 'If-Modified-Since' => $lm);
    ok t_cmp($r->{status}, 304, 'static file, If-Modified-Since: 304');
    fast_ok($r, 'static file, If-Modified-Since');

    $r = get(GET => '/dialup/dyn/slow/cgi/data.pl?size=2000&etag=dyn-etag',
             'If-None-Match' => '"dyn-etag"');
    ok t_cmp($r->{status}, 304, "a CGI's ETag, If-None-Match: 304");
    fast_ok($r, "a CGI's ETag, If-None-Match");

    $r = get(GET => '/dialup/dyn/slow/missing.txt');
    ok t_cmp($r->{status}, 404, 'missing static file: 404');
    fast_ok($r, 'missing static file');

    $r = get(GET => '/dialup/dyn/slow/cgi/missing.pl');
    ok t_cmp($r->{status}, 404, 'missing CGI script: 404');
    fast_ok($r, 'missing CGI script');

    $r = get(GET => '/dialup/dyn/slow/cgi/data.pl?size=2000&status=500');
    ok t_cmp($r->{status} == 500 && $r->{complete}
             && body_matches($r->{body}, content(2000), 'CGI Status: 500')
             ? 1 : 0, 1,
             "a CGI's Status: 500: 500 with the script's body (got "
             . "$r->{status}, " . length($r->{body}) . ' bytes)');
    fast_ok($r, "a CGI's Status: 500");
}
