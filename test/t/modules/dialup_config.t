# ModemStandard, DialupRate and DialupMinRate values checked by "httpd
# -t": every bad value stops the server from starting, with a message that names the
# directive, the value and what is accepted; every good one (modem names
# in any case, rates from 8 bit/s to 100 Gbit/s with k or M, "off") in
# every context passes.  The same for the directives of issue 11:
# DialupBufferMemory and DialupBufferFile (sizes in bytes with K, M or G,
# up to 1024G, 0 allowed), DialupBufferDir (an existing directory, server
# and virtual host only, relative to ServerRoot) and DialupModemHeader
# (on or off).
#
# Each case is a small config of its own, written to t/logs/dialup-config/,
# that loads only the MPM of this run and mod_dialup from the install tree
# the suite runs against; the test server is not involved.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use DialupTest;

my @modems = qw(V.21 V.22 V.22bis V.23 V.26bis V.27ter V.29 V.32 V.32bis
                V.34 V.34+ V.90 V.92 ISDN ISDN-2B);

sub modem_error {
    "ModemStandard: unknown modem standard '$_[0]'; use one of "
    . join(', ', @modems) . ', or off (or DialupRate for another rate)';
}
sub rate_error {
    "DialupRate: '$_[0]' is not a rate in bits per second from 8 to "
    . '100000000000 (digits with an optional k or M suffix, e.g. 56000, '
    . '56k, 2M) or off';
}

sub size_error {
    "$_[0]: '$_[1]' is not a size in bytes (digits with an optional K, M "
    . 'or G suffix, e.g. 65536, 64K, 64M; 0 for none) up to 1024G';
}

sub dir_error {
    "DialupBufferDir: '$_[0]' is not a directory";
}

sub min_rate_error {
    "DialupMinRate: '$_[0]' is neither a modem standard ("
    . join(', ', @modems) . ') nor a rate in bits per second from 8 to '
    . '100000000000 (digits with an optional k or M suffix, e.g. 2400, 56k)';
}

# Where a directive goes (DialupTest::config_contexts()).
my %context = config_contexts();

# [directive, value as written in the config, context, expected message
# (undef: passes)]
my @bad = (
    (map { ['ModemStandard', $_, 'server', modem_error($_)] }
         qw(V.93 V92 V.92bis V.34++ ISDN-3B 56k 56000 on none default)),
    ['ModemStandard', '"V 92"', 'server', modem_error('V 92')],
    ['ModemStandard', 'v.9', 'vhost', modem_error('v.9')],
    ['ModemStandard', 'foo', 'Directory', modem_error('foo')],
    ['ModemStandard', 'bar', 'Location', modem_error('bar')],
    ['ModemStandard', 'baz', 'Files', modem_error('baz')],
    ['ModemStandard', '""', 'server', qr/^ModemStandard takes one argument/],
    ['ModemStandard', 'V.92 V.90', 'server',
     qr/^ModemStandard takes one argument/],
    (map { ['DialupRate', $_, 'server', rate_error($_)] }
         qw(0 7 0k 100000000001 100000001k 100001M 99999999999999999999999
            100G 56kb 56kk 1.5M -5 +5 0x10 k M V.92 on)),
    ['DialupRate', '"56 k"', 'server', rate_error('56 k')],
    ['DialupRate', '5', 'vhost', rate_error('5')],
    ['DialupRate', '1e6', 'Directory', rate_error('1e6')],
    ['DialupRate', '2G', 'Location', rate_error('2G')],
    ['DialupRate', 'fast', 'Files', rate_error('fast')],
    ['DialupRate', '""', 'server', qr/^DialupRate takes one argument/],
    (map { ['DialupMinRate', $_, 'server', min_rate_error($_)] }
         qw(off 0 7 V.93 56kb fast)),
    ['DialupMinRate', '5', 'Location', min_rate_error('5')],
    (map { ['DialupBufferMemory', $_, 'server',
            size_error('DialupBufferMemory', $_)] }
         qw(bogus 2000G 1025G 1099511627777 1048577M 1073741825K -1 +1
            64KB 64k8 1.5M 0x10 K 1T 99999999999999999999999)),
    ['DialupBufferMemory', '"64 K"', 'server',
     size_error('DialupBufferMemory', '64 K')],
    ['DialupBufferMemory', 'lots', 'Directory',
     size_error('DialupBufferMemory', 'lots')],
    ['DialupBufferMemory', '2000G', 'Location',
     size_error('DialupBufferMemory', '2000G')],
    ['DialupBufferMemory', '""', 'server',
     qr/^DialupBufferMemory takes one argument/],
    (map { ['DialupBufferFile', $_, 'server',
            size_error('DialupBufferFile', $_)] }
         qw(-1 bogus 2000G 64MB off none)),
    ['DialupBufferFile', '-1', 'vhost', size_error('DialupBufferFile', '-1')],
    ['DialupBufferFile', '1.5G', 'Files',
     size_error('DialupBufferFile', '1.5G')],
    ['DialupBufferDir', '/nonexistent', 'server', dir_error('/nonexistent')],
    ['DialupBufferDir', '/nonexistent/dialup', 'vhost',
     dir_error('/nonexistent/dialup')],
    # A file is not a directory.
    ['DialupBufferDir', '/dev/null', 'server', dir_error('/dev/null')],
    # Relative to ServerRoot, and named so.
    ['DialupBufferDir', 'no-such-dir', 'server',
     qr{^DialupBufferDir: '/\S*/dialup-config/no-such-dir' is not a directory$}],
    ['DialupBufferDir', '/tmp', 'Directory',
     'DialupBufferDir not allowed in <Directory> context'],
    ['DialupBufferDir', '/tmp', 'Location',
     'DialupBufferDir not allowed in <Location> context'],
    (map { ['DialupModemHeader', $_, 'server',
            qr/^DialupModemHeader must be On or Off/] }
         qw(maybe yes 1 0 "")),
    ['DialupModemHeader', 'maybe', 'Directory',
     qr/^DialupModemHeader must be On or Off/],
);

my %seen;
my @good = (
    (map { ['ModemStandard', $_, 'Directory'] }
         grep { !$seen{$_}++ } @modems, (map { lc } @modems),
                               (map { uc } @modems), qw(off OFF Off)),
    (map { ['DialupRate', $_, 'Directory'] }
         qw(8 9 56000 56k 56K 2M 2m 100000000000 100000000k 100000M
            off OFF Off)),
    (map { ['DialupMinRate', $_, 'Directory'] } qw(8 2400 56k V.21 v.22bis)),
    (map { ['DialupBufferMemory', $_, 'Directory'] }
         qw(64K 1M 0 65536 64k 1m 1G 1024G 1099511627776 1048576M)),
    (map { ['DialupBufferFile', $_, 'Directory'] }
         qw(0 64M 1M 64K 1G 1024G 4096)),
    (map { ['DialupBufferDir', $_, 'server'] } qw(/tmp /tmp/ .), '"/tmp"'),
    ['DialupBufferDir', '/tmp', 'vhost'],
    (map { ['DialupModemHeader', $_, 'Directory'] } qw(on off On OFF)),
    (map { (['DialupBufferMemory', '64K', $_], ['DialupBufferFile', '0', $_],
            ['DialupModemHeader', 'on', $_]) }
         sort keys %context),
    (map { (['ModemStandard', 'V.92', $_], ['DialupRate', '56k', $_],
            ['DialupMinRate', 'V.22', $_]) }
         sort keys %context),
);

plan tests => @bad + @good, need_module('dialup');

config_cases_ok('dialup-config', \%context, \@bad, \@good);
