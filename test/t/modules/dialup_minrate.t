# DialupMinRate: the dialup-modem variable may ask for a slower rate than
# the configuration, but not below DialupMinRate (300 bit/s by default, the
# rate of V.21); a lower choice is paced at the floor and logged at debug
# level with AH19109.  The directives themselves are not bound by it.
#
# t/conf/dialup.conf.in: dialup/minrate/ has DialupRate 160k and
# DialupMinRate 40k, dialup/minrate/inherit/ inherits the floor under
# DialupRate 320k, and dialup/env/ (dialup_env.t) has the default floor.
# The variable comes from the X-Modem request header.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;

# [name, path under /dialup/, X-Modem value, expected bit/s, size]
my @cases = (
    ['above the floor: 80k', 'minrate/a.txt', '80k', 80_000, 10_000],
    ['at the floor: 40k', 'minrate/a.txt', '40k', 40_000, 10_000],
    ['below the floor: 10k paced at 40k', 'minrate/a.txt', '10k', 40_000,
     10_000],
    ['a slow modem: V.21 paced at 40k', 'minrate/a.txt', 'V.21', 40_000,
     10_000],
    ['floor inherited: 8 bit/s paced at 40k', 'minrate/inherit/a.txt', '8',
     40_000, 10_000],
    ['default floor: 100 bit/s paced at 300', 'env/tiny.txt', '100', 300,
     60],
);
$_->[1] = "/dialup/$_->[1]" for @cases;

plan tests => 2 * @cases + 1, need need_module('dialup'),
                                   need_module('setenvif');

my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');

for my $case (@cases) {
    my ($name, $path, $modem, $rate, $size) = @$case;
    my $data = content($size);
    t_write_file("$docroot$path", $data) unless -e "$docroot$path";

    my $r = raw_get($path, timeout => 30, headers => ['X-Modem' => $modem]);
    $r->{conn}->disconnect if $r->{conn};
    served_ok($r, $name, $data, $rate);
}

my @lines = wait_for(5, sub {
    my @l = log_lines("$t_logs/error_log",
                      qr/AH19109: .*dialup-modem=10k .*40000 bit\/s/);
    @l ? \@l : undef;
});
ok t_cmp($lines[0] ? 1 : 0, 1,
         'dialup-modem=10k below the floor: AH19109 in the error log');
