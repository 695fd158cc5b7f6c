# DialupLink (issue 12): one directive sets a whole link, downlink,
# uplink and round trip.  t/conf/dialup_line.conf.in: dialup/line/slow4g/
# is "DialupLink Slow-4G" (Chrome's Slow 4G: 1440 kbit/s down, 675 up,
# 150 ms), with CGI scripts in cgi/; dialup/line/v92/ "DialupLink v.92"
# (56000 down, 48000 up, 120 ms for an analog modem); both per-client.
# Bad names in the configuration: dialup_line_config.t.
#
# - 400 KB from Slow-4G, on a new connection: first byte after at least
#   2 x 150 ms, the rest at 1440 kbit/s (about 2.2 s).
# - 14 KB from V.92: first byte after at least 2 x 120 ms, then 56 kbit/s
#   (about 2 s).
# - 200 KB posted to a CGI under Slow-4G: read at 675 kbit/s (about
#   2.4 s).
# - The access log: %{dialup}n names the link, %{dialup-latency}n says
#   300 and 240 ms, %{dialup-line}n the address.
# - A line is a client's at one rate: the same 400 KB from Slow-4G and,
#   at once, 30 KB from dialup/line/shared/ (160k) are two lines, each at
#   its own full rate (the 30 KB at most 1.3 x 1.5 s + 0.5 s; at half of
#   160k it would take 3 s).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use Digest::MD5 qw(md5_hex);

plan tests => 16, need need_module('dialup'), need_cgi();

my $docroot = Apache::Test::vars('documentroot');
my $tag = "link$$";
my $big = content(400_000);
my $v92 = content(14_000);
my $post = content(200_000);
t_write_file("$docroot/dialup/line/slow4g/400k.txt", $big);
t_write_file("$docroot/dialup/line/v92/14k.txt", $v92);
my $small = content(30_000);
t_write_file("$docroot/dialup/line/shared/30k.txt", $small);
my $cgi = "$docroot/dialup/line/slow4g/cgi/count.cgi";
write_count_cgi($cgi);

# GET $path on a new connection; $down bit/s, $rtt s: exact, the first
# byte after 2 round trips (at most 2 s more), the rest at the rate.
# Three checks.
sub link_ok {
    my ($name, $path, $want, $down, $rtt) = @_;
    my ($r) = many_get([{ path => $path, name => $name }], timeout => 30);
    ok t_cmp($r->{status} == 200 && $r->{complete}
             && body_matches($r->{body}, $want, $name) ? 1 : 0, 1,
             "$name: 200, body exact");
    within_ok($r->{t_first}, 2 * $rtt, 2 * $rtt + 2,
              "$name: first byte after 2 round trips of $rtt s");
    my $ideal = wire($r) * 8 / $down;
    within_ok($r->{elapsed}, 2 * $rtt + 0.8 * $ideal,
              2 * $rtt + 1.5 * $ideal + 1, "$name: paced at $down bit/s");
}

link_ok('Slow-4G, 400 KB', "/dialup/line/slow4g/400k.txt?$tag-slow4g",
        $big, 1_440_000, 0.15);
link_ok('v.92, 14 KB', "/dialup/line/v92/14k.txt?$tag-v92", $v92, 56_000,
        0.12);

my $r = send_body(POST => "/dialup/line/slow4g/cgi/count.cgi?$tag-post",
                  $post);
$r->{conn}->disconnect if $r->{conn};
ok t_cmp("$r->{status} $r->{body}",
         '200 ' . length($post) . ' ' . md5_hex($post) . "\n",
         'Slow-4G: a CGI reading 200 KB: the whole body');
my $ideal = length($post) * 8 / 675_000;
within_ok($r->{elapsed}, 0.8 * $ideal, 1.5 * $ideal + 1.5,
          'Slow-4G: a CGI reading 200 KB: at 675 kbit/s up');

my %log = map { $_->{uri} =~ /-(\w+)$/ ? ($1 => $_) : () }
          line_log_of(qr/\?\Q$tag\E-/, 3);
my ($s, $v) = map { $log{$_} || { link => 'no log line', latency => '-',
                                  line => '-' } } qw(slow4g v92);
ok t_cmp($s->{link}, qr/^slow-4g$/i, '%{dialup}n: Slow-4G');
latency_note_ok($log{slow4g}, 2, 150, 'Slow-4G, new connection');
ok t_cmp($v->{link}, qr/^v\.92$/i, '%{dialup}n: V.92');
latency_note_ok($log{v92}, 2, 120, 'V.92, new connection');
ok t_cmp("$s->{line} $v->{line}", '127.0.0.1 127.0.0.1',
         '%{dialup-line}n: the address');

# Two rates, two lines.
my ($fast, $slow) = many_get(
    [{ path => "/dialup/line/shared/30k.txt?$tag-two-160k", name => '160k' },
     { path => "/dialup/line/slow4g/400k.txt?$tag-two-slow4g",
       name => 'Slow-4G' }], timeout => 30);
ok t_cmp($fast->{status} == 200 && body_matches($fast->{body}, $small, '160k')
         && $slow->{status} == 200 && body_matches($slow->{body}, $big, 'S4G')
         ? 1 : 0, 1, '160k and Slow-4G at once: 200, bodies exact');
my $alone = wire($fast) * 8 / 160_000;
within_ok($fast->{elapsed}, 0.8 * $alone, 1.3 * $alone + 0.5,
          '160k beside Slow-4G: at its full rate, a line of its own');
my $s4g = wire($slow) * 8 / 1_440_000;
within_ok($slow->{elapsed}, 0.3 + 0.8 * $s4g, 0.3 + 1.5 * $s4g + 1,
          'Slow-4G beside 160k: at its full rate');
