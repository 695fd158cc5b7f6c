# DialupUplink (issue 12): a request body that the handler reads comes in
# at the uplink rate; one that it does not read is not paced.
# t/conf/dialup_line.conf.in: dialup/line/upload/ has CGI scripts at 80k
# up (10,000 bytes a second) and nothing paced down; dialup/line/upload/
# plain/ the same with the uplink off; /dialup/line/unread is
# mod_suspend_test's /connid handler (which never reads a body) at 80k
# up.
#
# - A CGI that reads its 30,000-byte body and answers with its length and
#   MD5: the answer comes after about 3 s (at least 2.4 s, at most 6 s),
#   and is right.  With the uplink off, in less than 1.5 s.
# - A GET with a 30,000-byte body to /dialup/line/unread: answered in
#   less than 1.5 s; the connection then serves the next request.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use Digest::MD5 qw(md5_hex);

plan tests => 7, need need_module('dialup'), need_cgi();

my $docroot = Apache::Test::vars('documentroot');
my $up = 10_000;                # bytes a second
my $size = 30_000;
my $body = content($size);
my $want = "$size " . md5_hex($body) . "\n";
my $tag = "uplink$$";

for my $dir ("$docroot/dialup/line/upload", "$docroot/dialup/line/upload/plain") {
    write_count_cgi("$dir/count.cgi");
}

my $r = send_body(POST => "/dialup/line/upload/count.cgi?$tag-paced", $body);
ok t_cmp("$r->{status} $r->{body}", "200 $want",
         'a CGI reading 30,000 bytes at 80k up: the whole body');
my $ideal = $size / $up;
within_ok($r->{elapsed}, 0.8 * $ideal, 1.5 * $ideal + 1.5,
          'a CGI reading 30,000 bytes at 80k up: paced');
$r->{conn}->disconnect if $r->{conn};

$r = send_body(POST => "/dialup/line/upload/plain/count.cgi?$tag-plain", $body);
ok t_cmp("$r->{status} $r->{body}", "200 $want",
         'the same with DialupUplink off: the whole body');
within_ok($r->{elapsed}, 0, 1.5, 'the same with DialupUplink off: not paced');
$r->{conn}->disconnect if $r->{conn};

if (have_module('suspend_test')) {
    $r = send_body(GET => "/dialup/line/unread?$tag-unread", $body);
    ok t_cmp($r->{status} == 200 && $r->{body} =~ /^pid=\d+ / ? 1 : 0, 1,
             'a body the handler does not read: answered (got '
             . "$r->{status})");
    within_ok($r->{elapsed}, 0, 1.5,
              'a body the handler does not read: not paced (paced: '
              . "$ideal s)");
    my $next = { status => 0, body => '' };
    if ($r->{conn}) {
        $next = eval {
            $r->{conn}->send_request(GET => '/health.txt');
            my $n = $r->{conn}->read_response(timeout => 20);
            $r->{conn}->disconnect;
            $n;
        } || $next;
    }
    ok t_cmp("$next->{status} $next->{body}", "200 healthy\n",
             'the connection then serves the next request');
}
else {
    skip 'mod_suspend_test not loaded' for 1 .. 3;
}
