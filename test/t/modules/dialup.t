# mod_dialup on static files: a 200 or 206 response to a GET is paced at
# the configured rate (what goes on the wire, headers included, with the
# first bytes after one 200 ms pulse), byte-exact, and the connection is
# kept alive afterwards; HEAD, 304, 416 and errors go out at once, with
# the headers and ranges the core gives without the module.
#
# Paced requests go to dialup/rate/ (160 kbit/s, 20000 bytes a second).
# Requests that must not be paced go to dialup/slow/ (400 bit/s, 50 bytes
# a second), where a paced response would need seconds for its headers
# alone; dialup/plain/ has no modem and gives the core's answers.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use POSIX qw(strftime);

plan tests => 43, need_module('dialup');

my $rate = 160_000;             # DialupRate in dialup/rate/, bit/s
my $fast = 1.5;                 # seconds: "at once" in dialup/slow/
my $size = 20_000;
my $docroot = Apache::Test::vars('documentroot');

my $data = content($size);
for my $dir (qw(rate slow slow/plain denied plain)) {
    t_write_file("$docroot/dialup/$dir/body.txt", $data);
}
# No MIME type for this name in the test server's TypesConfig.
t_write_file("$docroot/dialup/rate/untyped", $data);
t_write_file("$docroot/dialup/slow/notfound.html",
             "<p>dialup: no such page</p>\n");
my $mtime = (stat "$docroot/dialup/slow/body.txt")[9];

# ok() for a paced response: it took between 0.8 and 1.5 times (+0.5 s)
# the time its wire bytes need at $rate.
# ok() for a response that must not be paced.
sub fast_ok {
    my ($r, $name) = @_;
    my $t = $r->{elapsed};
    ok t_cmp(defined $t && $r->{complete} && $t < $fast ? 1 : 0, 1,
             sprintf "%s: at once (%s s, limit %.1f s)", $name,
             defined $t ? sprintf('%.3f', $t) : 'no answer', $fast);
}

# One request on a new connection, closed afterwards.
sub get {
    my ($method, $path, @headers) = @_;
    my $r = raw_get($path, method => $method, headers => \@headers,
                    timeout => 15);
    $r->{conn}->disconnect if $r->{conn};
    return $r;
}

# --- a paced download, and keep-alive after it -------------------------------

my ($r1, $r2, $kept);
eval {
    my $c = SuspendTest::Conn->new;
    $c->send_request(GET => '/dialup/rate/body.txt');
    $r1 = $c->read_response(timeout => 15);
    $kept = !$c->{eof} && ($r1->{headers}{connection} || '') !~ /close/i;
    $c->send_request(GET => '/dialup/rate/body.txt');
    $r2 = $c->read_response(timeout => 15);
    $c->disconnect;
};
t_debug("error: $@") if $@;
$r1 ||= { status => 0, body => '', headers => {} };
$r2 ||= { status => 0, body => '', headers => {} };

ok t_cmp($r1->{status}, 200, 'GET: status');
ok body_matches($r1->{body}, $data, 'GET: body');
paced_ok($r1, 'GET', $rate);
my $th = $r1->{t_headers};
ok t_cmp(defined $th && $th >= 0.1 && $th <= 0.8 ? 1 : 0, 1,
         sprintf 'GET: first bytes after about one pulse (%s s)',
         defined $th ? sprintf('%.3f', $th) : 'never');
ok t_cmp($kept ? 1 : 0, 1, 'GET: connection kept alive');
ok t_cmp($r2->{status} == 200 && body_matches($r2->{body}, $data,
                                              'second GET') ? 1 : 0, 1,
         'second GET on the same connection: 200, body exact');
paced_ok($r2, 'second GET on the same connection', $rate);

# A file with no MIME type is served by the core's default handler all
# the same (its handler name is "" in 2.4): paced too.
my $untyped = get(GET => '/dialup/rate/untyped');
ok t_cmp($untyped->{status} == 200
         && body_matches($untyped->{body}, $data, 'no MIME type') ? 1 : 0,
         1, 'file with no MIME type: 200, body exact');
paced_ok($untyped, 'file with no MIME type', $rate);

# --- what goes out at once ---------------------------------------------------

# Control: dialup/slow/ is paced (no headers within a second).
my $ctl = eval {
    my $c = SuspendTest::Conn->new;
    $c->send_request(GET => '/dialup/slow/body.txt');
    my $r = $c->read_response(timeout => 1);
    $c->abort;
    $r;
} || {};
ok t_cmp($ctl->{error} || '', 'timeout before headers',
         'control: a GET in dialup/slow/ has no headers after 1 s');

my ($head, $quiet);
eval {
    my $c = SuspendTest::Conn->new;
    $c->send_request(HEAD => '/dialup/slow/body.txt');
    $head = $c->read_response(head => 1, timeout => 15);
    $quiet = $c->quiet_for(0.3);
    $c->disconnect;
};
t_debug("error: $@") if $@;
$head ||= { status => 0, headers => {} };
my $h = $head->{headers};
ok t_cmp($head->{status}, 200, 'HEAD: status');
fast_ok($head, 'HEAD');
ok t_cmp($h->{'content-length'}, $size, 'HEAD: Content-Length');
ok t_cmp($h->{'last-modified'},
         strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime $mtime),
         'HEAD: Last-Modified');
ok t_cmp($h->{etag} || '', qr/^(W\/)?"[^"]+"$/, 'HEAD: ETag');
ok t_cmp($h->{'accept-ranges'}, 'bytes', 'HEAD: Accept-Ranges');
ok t_cmp($h->{'content-type'}, 'text/plain', 'HEAD: Content-Type');
ok t_cmp($quiet ? 1 : 0, 1, 'HEAD: no body');

my $etag = $h->{etag} || '"none"';
my $nm = get(GET => '/dialup/slow/body.txt', 'If-None-Match' => $etag);
ok t_cmp($nm->{status}, 304, 'If-None-Match: 304');
fast_ok($nm, 'If-None-Match');
ok t_cmp($nm->{headers}{etag}, $etag, 'If-None-Match: same ETag');
my $ims = get(GET => '/dialup/slow/body.txt',
              'If-Modified-Since' => $h->{'last-modified'} || 'none');
ok t_cmp($ims->{status}, 304, 'If-Modified-Since: 304');
fast_ok($ims, 'If-Modified-Since');

# --- ranges ------------------------------------------------------------------

my $one = get(GET => '/dialup/rate/body.txt', Range => 'bytes=1000-16999');
ok t_cmp($one->{status}, 206, 'one range: 206');
ok t_cmp($one->{headers}{'content-range'}, "bytes 1000-16999/$size",
         'one range: Content-Range');
ok body_matches($one->{body}, substr($data, 1000, 16000), 'one range');
paced_ok($one, 'one range', $rate);

# Two ranges: multipart/byteranges, parsed part by part and compared with
# the same request where nothing is paced.
sub parts {
    my $r = shift;
    my ($b) = ($r->{headers}{'content-type'} || '')
        =~ m{^multipart/byteranges; boundary=(\S+)} or return [];
    my @p;
    # CRLF "--" boundary CRLF headers CRLF CRLF data, ..., CRLF "--"
    # boundary "--" CRLF
    for my $part (split /\r\n--\Q$b\E/, $r->{body}) {
        next unless $part =~ s/^\r\n//;
        my ($hdr, $body) = split /\r\n\r\n/, $part, 2;
        my ($range) = $hdr =~ /^Content-Range: (.*)$/mi;
        push @p, [$range, $body];
    }
    return \@p;
}
my $ranges = 'bytes=0-4999,10000-14999';
my $multi = get(GET => '/dialup/rate/body.txt', Range => $ranges);
my $multi_core = get(GET => '/dialup/plain/body.txt', Range => $ranges);
my $p = parts($multi);
ok t_cmp($multi->{status}, 206, 'two ranges: 206');
ok t_cmp(scalar @$p, 2, 'two ranges: multipart/byteranges, two parts');
ok t_cmp(join('|', map { $_->[0] || '' } @$p),
         "bytes 0-4999/$size|bytes 10000-14999/$size",
         'two ranges: Content-Range of the parts');
ok t_cmp((@$p == 2 && $p->[0][1] eq substr($data, 0, 5000)
          && $p->[1][1] eq substr($data, 10000, 5000)) ? 1 : 0, 1,
         'two ranges: bodies of the parts exact');
ok t_cmp(length $multi->{body}, length $multi_core->{body},
         'two ranges: as long as without mod_dialup');
paced_ok($multi, 'two ranges', $rate);

my $bad = get(GET => '/dialup/slow/body.txt', Range => 'bytes=30000-40000');
my $bad_core = get(GET => '/dialup/plain/body.txt',
                   Range => 'bytes=30000-40000');
ok t_cmp($bad->{status}, 416, 'unsatisfiable range: 416');
fast_ok($bad, 'unsatisfiable range');
ok t_cmp($bad->{headers}{'content-range'},
         $bad_core->{headers}{'content-range'},
         'unsatisfiable range: Content-Range as without mod_dialup');

# --- errors ------------------------------------------------------------------

my $denied = get(GET => '/dialup/denied/body.txt');
ok t_cmp($denied->{status}, 403, 'Require all denied: 403');
fast_ok($denied, 'Require all denied');

my $nf = get(GET => '/dialup/slow/missing.bin');
ok t_cmp($nf->{status}, 404, 'missing file: 404');
fast_ok($nf, 'missing file with an ErrorDocument in the paced directory');
ok t_cmp($nf->{body}, qr/dialup: no such page/,
         'missing file: the ErrorDocument is the body');

my $nf2 = get(GET => '/dialup/slow/plain/missing.bin');
ok t_cmp($nf2->{status}, 404, 'missing file, default error page: 404');
fast_ok($nf2, 'missing file, default error page');
