# A backend is released as soon as its response is held (issue 11): 1 MB
# from a handler that makes it at once, paced far slower than it came.
#
# - Proxied at V.92 (7,000 bytes a second: the whole would take 150 s):
#   /dialup/backend/v92/ proxies to the backend virtual host of
#   t/conf/dialup_backend.conf.in, which is not paced and logs %D (the
#   microseconds it took).  The client reads the first 50 KB (about 7 s)
#   and leaves.  Checked: those bytes are exact and paced; the backend's
#   log line for the request came within 5 s of the request, while the
#   client was still being paced (before it had its 50 KB, and before the
#   front request was logged); the backend took less than 5 s by its %D
#   (well under one on a quiet machine) and sent all 1 MB.
# - A CGI printing 1 MB at 80k (10,000 bytes a second, 100 s): the
#   client reads 20 KB (2 s); the CGI's process exits while the client is
#   still being paced.
#
# Each time, on event, once the handler has returned the connection is
# suspended (server-status's ConnsAsyncSuspended), the rest paced with no
# thread held; and the client's leaving is logged as an abort at once.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use DialupBackend;
use Time::HiRes qw(time sleep);

plan tests => 14, need need_module('dialup'), need_module('proxy_http'),
                       need_module('status'), need_cgi();

my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');
my $size = 1024 * 1024;
my $data = content($size);
my $async = expect_async();

t_write_file("$docroot/dialup/backend/origin/1m.txt", $data);
my $cgi = "$docroot/dialup/backend/cgi/1m.cgi";
t_write_file($cgi, <<"EOF");
#!$^X
# Written by t/modules/dialup_backend.t: the 1 MB file, from a CGI.
open my \$f, '<', "\$ENV{DOCUMENT_ROOT}/dialup/backend/origin/1m.txt"
    or die "1m.txt: \$!";
binmode \$f;
binmode STDOUT;
local \$/;
print "Content-Type: text/plain\\n\\n", <\$f>;
EOF
chmod 0755, $cgi;

# The line of a log of the request tagged $tag.
sub tagged_line {
    my ($log, $tag) = @_;
    my @l = log_lines("$t_logs/$log", qr/ "GET [^ ]*\?\Q$tag\E HTTP/);
    return $l[0];
}

# The processes of the CGI script $name.
sub cgi_pids {
    my $name = shift;
    my @p;
    for my $cmd (glob '/proc/[0-9]*/cmdline') {
        open my $fh, '<', $cmd or next;
        my $c = <$fh>;
        push @p, $cmd =~ m{/proc/(\d+)/} if defined $c && $c =~ /\Q$name\E/;
    }
    return @p;
}

# GET $path?$tag and read the first $want bytes of the body, looking
# between reads whether $released->(headers seen) is true yet (the
# backend is done).
# Returns { status, headers, body (what was read of it), elapsed (when
# $want bytes were there), released (seconds after the request, or
# undef), logged_before (the front request was logged when the backend
# was seen done), suspended (event: the most ConnsAsyncSuspended seen
# after that) }.  The client then resets the connection; t_gone is when.
sub partial_download {
    my ($path, $tag, $want, $released) = @_;
    my %r = (status => 0, headers => {}, body => '', suspended => 0);
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request(GET => "$path?$tag");
        my $t0 = $c->{t_sent};
        my $deadline = time + 3 * $want / 7000 + 10;
        my $head;
        while (time < $deadline) {
            if (!defined $r{released} && $released->(defined $head)) {
                $r{released} = time - $t0;
                $r{logged_before} = tagged_line('dialup_log', $tag) ? 1 : 0;
            }
            if (defined $r{released} && $async && $r{suspended} < 1
                && time - $t0 < $r{released} + 5) {
                $r{suspended} = status_auto()->{ConnsAsyncSuspended} || 0;
            }
            my $i = index $c->{buf}, "\r\n\r\n";
            if ($i >= 0 && !defined $head) {
                $head = substr $c->{buf}, 0, $i + 4, '';
                ($r{status}) = $head =~ m{^HTTP/1\.1 (\d{3}) };
                $r{status} ||= 0;
                for (split /\r\n/, $head) {
                    $r{headers}{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
                }
            }
            if (defined $head) {
                my $b = $c->{buf};
                $b = (SuspendTest::Conn::decode_chunked(\$b, 0))[1]
                    if ($r{headers}{'transfer-encoding'} || '') =~ /chunked/i;
                if (length $b >= $want) {
                    $r{elapsed} //= time - $t0;
                    $r{body} = substr $b, 0, $want;
                    last if defined $r{released};
                }
            }
            last if $c->{eof};
            $c->fill(time + 0.1);
        }
        $r{t_gone} = time;
        $c->abort;
    };
    t_debug("error: $@") if $@;
    $r{t_gone} ||= time;
    return \%r;
}

my $quiet = quiet_server();

# --- proxied, at V.92 ----------------------------------------------------------

my $tag = "backend$$-proxy";
my $want = 50_000;
my $r = partial_download('/dialup/backend/v92/1m.txt', $tag, $want,
                         sub { tagged_line('dialup_backend_log', $tag) });
my $bline = tagged_line('dialup_backend_log', $tag) || '';
t_debug("backend log: $bline");
t_debug(sprintf 'backend seen done after %s s; %d bytes after %s s',
        $r->{released} // 'never', length $r->{body}, $r->{elapsed} // '-');
ok t_cmp($r->{status} == 200 && ($r->{headers}{'content-length'} || 0) == $size
         && body_matches($r->{body}, substr($data, 0, $want), 'proxied')
         ? 1 : 0, 1, "proxied: 200, Content-Length $size, the first $want "
         . 'bytes exact');
paced_ok($r, "proxied: the first $want bytes", 56_000);
ok t_cmp(defined $r->{released} && $r->{released} < 5 ? 1 : 0, 1,
         'proxied: the backend logged the request within 5 s (after '
         . ($r->{released} // 'never') . ' s)');
ok t_cmp(defined $r->{released} && defined $r->{elapsed}
         && $r->{released} < $r->{elapsed} && !$r->{logged_before} ? 1 : 0, 1,
         'proxied: ... while the client was still being paced (before it had '
         . "$want bytes, after " . ($r->{elapsed} // 'never') . ' s, and '
         . 'before the front request was logged)');
my ($us, $st, $bytes) = $bline =~ /^(\d+) (\d{3}) (\d+) /;
ok t_cmp(defined $us && $us < 5_000_000 ? 1 : 0, 1,
         'proxied: the backend took less than 5 s for 1 MB (%D '
         . ($us // 'none') . ' us)');
ok t_cmp(($st || 0) == 200 && ($bytes || 0) == $size ? 1 : 0, 1,
         "proxied: the backend sent its whole response (200 $size)");

my $case_end = sub {
    my ($name, $r, $tag) = @_;
    if ($async) {
        ok t_cmp($r->{suspended} >= 1 ? 1 : 0, 1, "$name: event: suspended "
                 . "once the handler was done (ConnsAsyncSuspended up to "
                 . "$r->{suspended})");
    }
    else {
        skip mpm() . ': the rest is paced on the handler\'s thread';
    }
    my $line = wait_for(10, sub { tagged_line('dialup_log', $tag) });
    my $after = time - $r->{t_gone};
    ok t_cmp(($line || '') =~ /^200 \S+ X / && $after < 5 ? 1 : 0, 1,
             sprintf "%s: the client's leaving logged as an abort %.1f s "
             . 'after (limit 5 s): %s', $name, $after, $line || 'no line');
};
$case_end->('proxied', $r, $tag);

# --- a CGI, at 80k -------------------------------------------------------------

$tag = "backend$$-cgi";
$want = 20_000;
$r = partial_download('/dialup/backend/cgi/1m.cgi', $tag, $want, sub {
    # Once it has printed its headers, the script may be gone.
    $_[0] && !cgi_pids('1m.cgi');
});
t_debug(sprintf 'CGI seen gone after %s s; %d bytes after %s s',
        $r->{released} // 'never', length $r->{body}, $r->{elapsed} // '-');
ok t_cmp($r->{status} == 200
         && body_matches($r->{body}, substr($data, 0, $want), 'CGI')
         ? 1 : 0, 1, "CGI: 200, the first $want bytes exact");
paced_ok($r, "CGI: the first $want bytes", 80_000);
ok t_cmp(defined $r->{released} && defined $r->{elapsed}
         && $r->{released} < $r->{elapsed} && !$r->{logged_before} ? 1 : 0, 1,
         'CGI: the script\'s process exited (after '
         . ($r->{released} // 'never') . ' s) while the client was still '
         . "being paced (it had $want bytes after "
         . ($r->{elapsed} // 'never') . ' s)');
$case_end->('CGI', $r, $tag);

# Nothing left of either.
if ($quiet->{quiet}) {
    ok t_cmp(status_zero_within(20, 'DialupActive', 4), 1,
             'DialupActive back to 0');
}
else {
    skip "server not quiet before the test ($quiet->{left})";
}
