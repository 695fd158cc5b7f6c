# PHP through mod_proxy_fcgi, paced (issue 11): mod_dialup wraps the
# proxy's handler as any other.  The test starts a php-fpm of its own
# (t/lib/DialupBackend.pm: the test user's, a static pool of 4 children
# on the port of "Define DIALUP_FPM_LISTEN" in
# t/conf/dialup_backend.conf.in) and stops it at the end.  Its PHP script
# prints the first n bytes of DialupTest's content(), in
# dialup/backend/php/ (160k, 20,000 bytes a second):
#
# - a GET of 40 KB: 200, body exact, paced (about 2 s), then a second
#   one and /health.txt on the same keep-alive connection;
# - a POST with a body: the script saw the body, the answer is exact and
#   paced;
# - a HEAD and a GET in dialup/backend/php/plain/ (DialupRate off): not
#   paced;
# - a script's X-Dialup-Modem header: in dialup/backend/php/modem/
#   (DialupModemHeader on) "V.92" paces its 14 KB at 56k and "off" not
#   at all; elsewhere (DialupModemHeader off by default) it is ignored
#   (160k); the client never sees the header;
# - php-fpm's error log has no ERROR or WARNING line, and it stops.
#
# Skipped when php-fpm is not installed (Debian: php-fpm) or does not
# start.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use DialupBackend;
use Digest::MD5 qw(md5_hex);

my $rate = 160_000;
my $fpm_port = define_port('DIALUP_FPM_LISTEN');
my $t_logs = Apache::Test::vars('t_logs');

my ($pid, $why) = (undef, 'mod_dialup and mod_proxy_fcgi are needed');
($pid, $why) = start_fpm($fpm_port)
    if Apache::Test::have_module('dialup')
       && Apache::Test::have_module('proxy_fcgi');
plan tests => 21, need need_module('dialup'), need_module('proxy_fcgi'),
                       { ($why || 'php-fpm') => ($pid ? 1 : 0) };

my $docroot = Apache::Test::vars('documentroot');
my $dir = "$docroot/dialup/backend/php";
t_write_file("$dir/gen.php", php_script());
t_write_file("$dir/plain/gen.php", php_script());
my $modem_php = <<'EOF';
<?php
// Written by t/modules/dialup_backend_php.t: 14000 bytes, the modem
// chosen by the query string.
header('Content-Type: text/plain');
header('X-Dialup-Modem: ' . $_GET['m']);
echo str_repeat("0123456789abcde\n", 875);
EOF
t_write_file("$dir/modem/modem.php", $modem_php);
t_write_file("$dir/modem.php", $modem_php);

my $size = 40_000;
my $data = content($size);

# Two GETs of the script and /health.txt on one connection.
my @r;
eval {
    my $c = SuspendTest::Conn->new;
    for my $q ("n=$size", "n=$size&again=1") {
        $c->send_request(GET => "/dialup/backend/php/gen.php?$q");
        push @r, $c->read_response(timeout => 30);
    }
    $c->send_request(GET => '/health.txt');
    push @r, $c->read_response(timeout => 10);
    $c->disconnect;
};
t_debug("error: $@") if $@;
push @r, { status => 0, body => '', headers => {} } while @r < 3;
for my $i (0, 1) {
    my $name = $i ? 'PHP GET again, same connection' : 'PHP GET 40 KB';
    ok t_cmp($r[$i]{status} == 200 && $r[$i]{complete}
             && body_matches($r[$i]{body}, $data, $name) ? 1 : 0, 1,
             "$name: 200, body exact (got $r[$i]{status}, "
             . length($r[$i]{body}) . ' bytes'
             . ($r[$i]{error} ? ", $r[$i]{error}" : '') . ')');
    paced_ok($r[$i], $name, $rate);
}
ok t_cmp($r[0]{headers}{'content-type'} || '', qr{^text/plain},
         'PHP GET: the script\'s Content-Type');
ok t_cmp($r[2]{status} == 200 && $r[2]{body} eq "healthy\n" ? 1 : 0, 1,
         "/health.txt on the same connection after them (got $r[2]{status})");

# A POST: the script reads the body, its answer is paced.
my $post = join '', map { chr(32 + ($_ * 7) % 95) } 1 .. 5000;
my $p = eval {
    my $c = SuspendTest::Conn->new;
    $c->send_request(POST => "/dialup/backend/php/gen.php?n=$size",
                     headers => ['Content-Type' => 'application/octet-stream',
                                 'Content-Length' => length $post,
                                 Connection => 'close']);
    # The request text went first: its body after it, then the timing
    # starts (send_raw sets t_sent).
    $c->send_raw($post);
    my $x = $c->read_response(timeout => 30);
    $c->disconnect;
    $x;
} || { status => 0, body => '', headers => {}, error => $@ };
my $want = 'POST ' . length($post) . ' ' . md5_hex($post) . "\n" . $data;
ok t_cmp($p->{status} == 200 && $p->{complete}
         && body_matches($p->{body}, $want, 'PHP POST') ? 1 : 0, 1,
         "PHP POST: 200, the script saw the body, answer exact (got "
         . "$p->{status}" . ($p->{error} ? ", $p->{error}" : '') . ')');
paced_ok($p, 'PHP POST', $rate);

# Not paced where DialupRate is off; HEAD is never paced.
my $u = raw_get("/dialup/backend/php/plain/gen.php?n=$size",
                headers => [Connection => 'close']);
ok t_cmp($u->{status} == 200 && body_matches($u->{body}, $data, 'unpaced PHP')
         ? 1 : 0, 1, "PHP, DialupRate off: 200, body exact (got $u->{status})");
unpaced_ok($u, 'PHP, DialupRate off', 1.0);
my $h = raw_get("/dialup/backend/php/gen.php?n=$size", method => 'HEAD',
                headers => [Connection => 'close']);
ok t_cmp($h->{status}, 200, 'PHP HEAD: 200');
unpaced_ok($h, 'PHP HEAD', 1.0);

# X-Dialup-Modem from the script.
my $mbody = "0123456789abcde\n" x 875;
for my $case (['modem/modem.php?m=V.92', 'DialupModemHeader on, V.92',
               56_000],
              ['modem/modem.php?m=off', 'DialupModemHeader on, off', 0],
              ['modem.php?m=V.92', 'DialupModemHeader off, V.92 ignored',
               $rate]) {
    my ($path, $name, $bits) = @$case;
    my $x = raw_get("/dialup/backend/php/$path",
                    headers => [Connection => 'close']);
    my $seen = $x->{headers}{'x-dialup-modem'};
    ok t_cmp($x->{status} == 200 && !defined $seen
             && body_matches($x->{body}, $mbody, $name) ? 1 : 0, 1,
             "PHP X-Dialup-Modem, $name: 200, body exact, no X-Dialup-Modem "
             . 'header in the response (got ' . ($seen // 'none') . ')');
    if ($bits) {
        paced_ok($x, "PHP X-Dialup-Modem, $name", $bits);
    }
    else {
        unpaced_ok($x, "PHP X-Dialup-Modem, $name", 0.5);
    }
}

# What php-fpm said.
my @bad = grep { /\b(?:ERROR|WARNING|ALERT)\b/ }
          log_lines("$t_logs/dialup_fpm_error.log", qr/./);
t_debug("php-fpm: $_") for @bad;
ok t_cmp(scalar @bad, 0, 'no ERROR or WARNING in php-fpm\'s error log');
ok t_cmp(-s "$t_logs/dialup_fpm_php.log" ? 1 : 0, 0,
         'no PHP error logged (dialup_fpm_php.log empty or absent)');
ok t_cmp(stop_fpm(), 1, "php-fpm $pid and its pool stopped");
