# ModemStandard and DialupRate in every context they are allowed in:
# <Directory>, <Files>, <Location>, <VirtualHost> and .htaccess
# (AllowOverride FileInfo).  A nested section inherits the rate of the
# enclosing one, "off" switches pacing off, a deeper section switches it
# on again; modem names match case-insensitively.  See the dialup_inherit
# part of t/conf/dialup.conf.in.
#
# Each case is one file whose size at its expected rate takes about a
# second; a file that must not be paced would take a second at the
# enclosing section's 160 kbit/s, and must come at once.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;

my $vport = define_port('DIALUP_VHOST_PORT');

# [name, path under /dialup/ ("vhost:" first: on the virtual host),
# expected bit/s (0: not paced), size, .htaccess text], in this order.
my @cases = (
    ['Directory', 'nest/a.txt', 160_000, 20_000],
    ['nested Directory inherits', 'nest/sub/deeper/a.txt', 160_000, 20_000],
    ['DialupRate off', 'nest/off/a.txt', 0, 20_000],
    ['off is inherited', 'nest/off/sub/a.txt', 0, 20_000],
    ['on again below off (isdn-2b, 128 kbit/s)', 'nest/off/isdn2b/a.txt',
     128_000, 16_000],
    ['ModemStandard v.92 (56 kbit/s)', 'nest/v92/a.txt', 56_000, 7_000],
    ['ModemStandard V.32BIS (14.4 kbit/s)', 'nest/v32bis/a.txt',
     14_400, 1_600],
    ['<Files> inherits the Directory', 'nest/files/a.txt', 160_000, 20_000],
    ['<Files> off', 'nest/files/off.txt', 0, 20_000],
    ['<Location> over the Directory (640k)', 'nest/loc/a.txt',
     640_000, 80_000],
    ['.htaccess DialupRate 160k', 'htaccess/a.txt', 160_000, 20_000,
     "DialupRate 160k\n"],
    ['.htaccess below: inherits', 'htaccess/sub/a.txt', 160_000, 20_000],
    ['.htaccess ModemStandard off', 'htaccess/off/a.txt', 0, 20_000,
     "ModemStandard off\n"],
    ['.htaccess ModemStandard ISDN (64 kbit/s)', 'htaccess/isdn/a.txt',
     64_000, 8_000, "ModemStandard ISDN\n"],
    ['<VirtualHost> DialupRate 320k', 'vhost:vhost/a.txt', 320_000, 40_000],
    ['main server: no rate there', 'vhost/a.txt', 0, 40_000],
    ['a <Directory> over the <VirtualHost>', 'vhost:nest/a.txt',
     160_000, 20_000],
);
$_->[1] =~ s{^(vhost:)?}{($1 || '') . '/dialup/'}e for @cases;

plan tests => 2 * @cases + 3, need_module('dialup');

my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');

# GET $path (on the virtual host for "vhost:/..."), on a new connection.
sub get {
    my $path = shift;
    no warnings 'redefine';
    local *SuspendTest::port = sub { $vport } if $path =~ s/^vhost://;
    my $r = raw_get($path, timeout => 15);
    $r->{conn}->disconnect if $r->{conn};
    return $r;
}

for my $case (@cases) {
    my ($name, $path, $rate, $size, $htaccess) = @$case;
    (my $file = $path) =~ s/^vhost://;
    my $data = content($size);
    t_write_file("$docroot$file", $data);
    if (defined $htaccess) {
        (my $dir = "$docroot$file") =~ s{/[^/]+$}{};
        t_write_file("$dir/.htaccess", $htaccess);
    }

    my $r = get($path);
    served_ok($r, $name, $data, $rate);
}

# A bad value in .htaccess: 500, and the error log says why.
t_write_file("$docroot/dialup/htaccess/bad/a.txt", content(100));
t_write_file("$docroot/dialup/htaccess/bad/.htaccess", "ModemStandard V.93\n");
my $bad = get('/dialup/htaccess/bad/a.txt');
ok t_cmp($bad->{status}, 500, '.htaccess ModemStandard V.93: 500');
my @lines = wait_for(5, sub {
    my @l = log_lines("$t_logs/error_log",
                      qr{dialup/htaccess/bad/\.htaccess: ModemStandard: }
                      . qr{unknown modem standard 'V\.93'});
    @l ? \@l : undef;
});
ok t_cmp($lines[0] ? 1 : 0, 1,
         '.htaccess ModemStandard V.93: error log names the file, '
         . 'directive and value');

# .htaccess needs AllowOverride FileInfo: elsewhere one is not read.
t_write_file("$docroot/dialup/nest/noht/a.txt", content(20_000));
t_write_file("$docroot/dialup/nest/noht/.htaccess", "ModemStandard off\n");
my $noht = get('/dialup/nest/noht/a.txt');
my $t = $noht->{elapsed};
ok t_cmp($noht->{status} == 200 && defined $t && $t >= 0.8 ? 1 : 0, 1,
         sprintf 'a .htaccess under AllowOverride None is not read: still '
         . 'paced (%s s)', defined $t ? sprintf('%.3f', $t) : 'no answer');
