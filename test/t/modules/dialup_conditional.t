# Range and conditional requests: the core answers them before mod_dialup
# holds anything back, so a paced response must be the core's own, byte
# for byte.  Every request goes to dialup/cond/paced/ (160 kbit/s) and to
# the same file in dialup/cond/plain/ (not paced), two copies with the
# same size and modification time, hence the same ETag and Last-Modified.
# Compared: the status (and the expected one), every header but Date and
# Keep-Alive, and the body; a multipart/byteranges boundary differs from
# one response to the next, so it is replaced by a fixed word first (after
# checking that each Content-Length is the length of its own body).  A 200
# or 206 to a GET must also be paced (its wire bytes at 160 kbit/s), and
# the rest must go out at once.  A small version of the "bad-input" case
# of test/stress.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use POSIX qw(strftime);

my $rate = 160_000;             # DialupRate in dialup/cond/paced/
my $size = 8_192;
my $fast = 1.5;                 # seconds: "at once"
my $docroot = Apache::Test::vars('documentroot');
my $data = content($size);

# Modified long ago: a file changed within the last second gets a weak
# ETag, which If-Range and If-Match never match.
my $mtime = 1_600_000_000;
for my $tree (qw(paced plain)) {
    my $file = "$docroot/dialup/cond/$tree/body.txt";
    t_write_file($file, $data);
    utime $mtime, $mtime, $file or die "utime $file: $!";
}
sub http_date {
    strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime shift);
}
my $lm = http_date($mtime);
my $older = http_date($mtime - 86400);
my $newer = http_date($mtime + 86400);
my $other = '"no-such-etag"';

# The ETag comes from the server: its format is the core's business.
my $etag = raw_get('/dialup/cond/plain/body.txt', method => 'HEAD',
                   headers => [Connection => 'close'])->{headers}{etag}
           || '"none"';

# [name, method, request headers, expected status]
my @cases = (
    ['GET',                     GET  => [],                           200],
    ['one range',               GET  => [Range => 'bytes=100-1099'],  206],
    ['two ranges',              GET  => [Range => 'bytes=0-99,5000-5999'],
                                                                      206],
    ['three ranges, one open',  GET  => [Range => 'bytes=0-9,100-199,8000-'],
                                                                      206],
    ['suffix range',            GET  => [Range => 'bytes=-500'],      206],
    ['open range',              GET  => [Range => 'bytes=7000-'],     206],
    ['unsatisfiable range',     GET  => [Range => 'bytes=30000-40000'],
                                                                      416],
    ['If-Range, same ETag',     GET  => [Range => 'bytes=100-1099',
                                         'If-Range' => $etag],        206],
    ['If-Range, other ETag',    GET  => [Range => 'bytes=100-1099',
                                         'If-Range' => $other],       200],
    ['If-Range, same date',     GET  => [Range => 'bytes=100-1099',
                                         'If-Range' => $lm],          206],
    ['If-Range, other date',    GET  => [Range => 'bytes=100-1099',
                                         'If-Range' => $older],       200],
    ['If-None-Match, same ETag', GET => ['If-None-Match' => $etag],   304],
    ['If-None-Match: *',        GET  => ['If-None-Match' => '*'],     304],
    ['If-None-Match, other ETag', GET => ['If-None-Match' => $other], 200],
    ['If-None-Match and Range', GET  => ['If-None-Match' => $etag,
                                         Range => 'bytes=0-99'],      304],
    ['If-Modified-Since, same date', GET => ['If-Modified-Since' => $lm],
                                                                      304],
    ['If-Modified-Since, older', GET => ['If-Modified-Since' => $older],
                                                                      200],
    ['If-Match, other ETag',    GET  => ['If-Match' => $other],       412],
    ['If-Match, same ETag, and Range', GET => ['If-Match' => $etag,
                                         Range => 'bytes=0-99'],      206],
    ['If-Unmodified-Since, older', GET => ['If-Unmodified-Since' => $older],
                                                                      412],
    ['If-Unmodified-Since, newer', GET => ['If-Unmodified-Since' => $newer],
                                                                      200],
    ['HEAD',                    HEAD => [],                           200],
    ['HEAD, one range',         HEAD => [Range => 'bytes=100-1099'],  206],
);

plan tests => 4 * @cases + 1, need_module('dialup');

ok t_cmp($etag, qr/^"[^"]+"$/, 'the file has a strong ETag');

sub get {
    my ($tree, $method, $headers) = @_;
    my $r = raw_get("/dialup/cond/$tree/body.txt", method => $method,
                    headers => [@$headers, Connection => 'close'],
                    timeout => 15);
    $r->{conn}->disconnect if $r->{conn};
    return $r;
}

# The response as text without what may differ between two servings of
# one request: Date, and the multipart boundary (with the Content-Length
# that its length changes, once that is checked against the body).
sub normalized {
    my ($r, $method) = @_;
    my %h = %{ $r->{headers} };
    my $body = $r->{body};
    delete @h{qw(date keep-alive)};
    my ($b) = ($h{'content-type'} || '') =~ /boundary=(\S+)/;
    if (defined $b) {
        my $cl = $h{'content-length'};
        my $framed = defined $cl && $cl == length $body;
        $h{'content-type'} =~ s/\Q$b\E/BOUNDARY/g;
        $body =~ s/\Q$b\E/BOUNDARY/g;
        $h{'content-length'} = $framed ? length $body
                                       : 'not the length of the body'
            if $method ne 'HEAD';
    }
    return (join('', map { "$_: $h{$_}\n" } sort keys %h), $body);
}

for my $case (@cases) {
    my ($name, $method, $headers, $want) = @$case;
    my $paced = get(paced => $method, $headers);
    my $plain = get(plain => $method, $headers);
    my ($ph, $pb) = normalized($paced, $method);
    my ($uh, $ub) = normalized($plain, $method);

    ok t_cmp("$paced->{status} $plain->{status}", "$want $want",
             "$name: status paced and unpaced");
    t_debug("$name: paced headers:\n$ph");
    ok t_cmp($ph, $uh, "$name: headers paced = unpaced");
    ok t_cmp($paced->{complete} && $plain->{complete} && $pb eq $ub
             ? 1 : 0, 1, sprintf "%s: body paced = unpaced (%d and %d "
             . "bytes)", $name, length $paced->{body}, length $plain->{body});

    if ($method eq 'GET' && ($want == 200 || $want == 206)) {
        paced_ok($paced, $name, $rate);
    }
    else {
        my $t = $paced->{elapsed};
        ok t_cmp(defined $t && $t < $fast ? 1 : 0, 1,
                 sprintf '%s: at once (%s s, limit %.1f s)', $name,
                 defined $t ? sprintf('%.3f', $t) : 'no answer', $fast);
    }
}
