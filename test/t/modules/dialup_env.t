# The dialup-modem environment variable overrides the configured rate for
# one request: a modem name, a rate in bits per second (faster or slower
# than the configuration) or "off".  An invalid value is ignored (the
# configured rate applies) and logged at info level with AH19105.
#
# t/conf/dialup.conf.in sets the variable from the X-Modem request header
# with SetEnvIf, in dialup/env/ (DialupRate 160k) and dialup/envonly/ (no
# rate configured).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;

my $bogus = "bogus-$$";

# [name, path under /dialup/, X-Modem value (undef: no header), expected
# bit/s (0: not paced), size]
my @cases = (
    ['no variable: configured 160k', 'env/a.txt', undef, 160_000, 20_000],
    ['faster: 640k', 'env/a.txt', '640k', 640_000, 20_000],
    ['slower: 80k', 'env/a.txt', '80k', 80_000, 20_000],
    ['off', 'env/a.txt', 'off', 0, 20_000],
    ['OFF', 'env/a.txt', 'OFF', 0, 20_000],
    ['a modem name: v.32bis', 'env/small.txt', 'v.32bis', 14_400, 1_600],
    ['invalid name: ignored', 'env/a.txt', $bogus, 160_000, 20_000],
    ['rate below 8 bit/s: ignored', 'env/a.txt', '7', 160_000, 20_000],
    ['no rate configured: 80k', 'envonly/a.txt', '80k', 80_000, 20_000],
    ['no rate configured, no variable', 'envonly/a.txt', undef, 0, 20_000],
);
$_->[1] = "/dialup/$_->[1]" for @cases;

plan tests => 2 * @cases + 2, need need_module('dialup'),
                                   need_module('setenvif');

my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');

for my $case (@cases) {
    my ($name, $path, $modem, $rate, $size) = @$case;
    my $data = content($size);
    t_write_file("$docroot$path", $data) unless -e "$docroot$path";

    my $r = raw_get($path, timeout => 15,
                    headers => [defined $modem ? ('X-Modem' => $modem) : ()]);
    $r->{conn}->disconnect if $r->{conn};
    served_ok($r, $name, $data, $rate);
}

for my $value ($bogus, '7') {
    my @lines = wait_for(5, sub {
        my @l = log_lines("$t_logs/error_log",
                          qr/:info\].*AH19105: .*dialup-modem=\Q$value\E\b/);
        @l ? \@l : undef;
    });
    ok t_cmp($lines[0] ? 1 : 0, 1,
             "invalid dialup-modem=$value: AH19105 at info level in the "
             . "error log");
}
