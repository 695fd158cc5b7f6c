# The directives of issue 12 checked by "httpd -t", as dialup_config.t
# does for the older ones: DialupLink, DialupLatency, DialupUplink,
# DialupLine, DialupLineKey and DialupLines.  A bad value stops the server
# from starting with a message that names the directive and the value
# (and, for a name, some of the accepted ones); a good one passes in
# every context it is allowed in (names in any case).  DialupLines is for
# the global server configuration only.
#
# Each case is a small config of its own in t/logs/dialup-line-config/,
# loading only this run's MPM and mod_dialup; the test server is not
# involved.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use DialupTest;

# The presets of the spec, and the modems of ModemStandard.
my @links = qw(3G Slow-4G Fast-4G GPRS Regular-2G Good-2G Regular-3G
               Good-3G Regular-4G DSL Wi-Fi Lighthouse Dial 3GSlow);
my @modems = qw(V.21 V.22 V.22bis V.23 V.26bis V.27ter V.29 V.32 V.32bis
                V.34 V.34+ V.90 V.92 ISDN ISDN-2B);

# A message that starts with the directive and names the value $v (and
# whatever else @also lists), in any order.
sub names {
    my ($directive, $v, @also) = @_;
    my $re = "^\Q$directive\E\\b(?=.*'\Q$v\E')";
    $re .= "(?=.*\Q$_\E)" for @also;
    return qr/$re/;
}

# Where a directive goes (DialupTest::config_contexts()).
my %context = config_contexts();
my @all = sort keys %context;

# [directive, value as written, context, expected message]
my @bad = (
    (map { ['DialupLink', $_, 'server',
            names('DialupLink', $_, 'Slow-4G', 'V.92')] }
         qw(Slow-5G Slow4G 4G V.93 fast 56k 56000 on)),
    ['DialupLink', '"Slow 4G"', 'server',
     names('DialupLink', 'Slow 4G', 'Slow-4G', 'V.92')],
    (map { ['DialupLink', 'Slow-5G', $_,
            names('DialupLink', 'Slow-5G', 'Slow-4G')] } @all),
    ['DialupLink', '""', 'server', qr/^DialupLink takes one argument/],
    ['DialupLink', 'DSL Wi-Fi', 'server', qr/^DialupLink takes one argument/],

    (map { ['DialupLatency', $_, 'server', names('DialupLatency', $_)] }
         qw(-1 10001 10001ms 11s 10.5s fast 150xs 1e3 0x10 on 150msx 1sx
            2h)),
    ['DialupLatency', '"150 ms"', 'server', names('DialupLatency', '150 ms')],
    (map { ['DialupLatency', '11s', $_, names('DialupLatency', '11s')] } @all),

    (map { ['DialupUplink', $_, 'server', names('DialupUplink', $_)] }
         qw(0 7 56kb 1.5M -5 fast V.92 on)),
    (map { ['DialupUplink', 'fast', $_, names('DialupUplink', 'fast')] } @all),

    (map { ['DialupLine', $_, 'server',
            names('DialupLine', $_, 'per-client', 'per-request')] }
         qw(per-host per-connection client on off)),
    (map { ['DialupLine', 'shared', $_,
            names('DialupLine', 'shared', 'per-client', 'per-request')] }
         @all),

    ['DialupLineKey', '"%{HTTP:X-Client"', 'server',
     names('DialupLineKey', '%{HTTP:X-Client')],
    ['DialupLineKey', '"%{NO_SUCH_VARIABLE}"', 'Directory',
     names('DialupLineKey', '%{NO_SUCH_VARIABLE}')],

    (map { ['DialupLines', $_, 'server', names('DialupLines', $_)] }
         qw(0 1048577 -1 many 8k 1e3)),
    ['DialupLines', '8', 'vhost',
     qr/^DialupLines cannot occur within <VirtualHost> section/],
    (map { ['DialupLines', '8', $_,
            qr/^DialupLines (?:cannot occur within <$_> section|not allowed (?:in <$_> context|here))/] }
         qw(Directory Location Files)),
);

my %seen;
my @good = (
    (map { ['DialupLink', $_, 'Directory'] }
         grep { !$seen{$_}++ } @links, @modems, (map { lc } @links, @modems),
                               (map { uc } @links), qw(off OFF)),
    (map { ['DialupLink', 'Slow-4G', $_] } @all),
    (map { ['DialupLatency', $_, 'Directory'] }
         qw(150ms 0.4s 150 0 off OFF 10s 10000 10000ms 1ms 0.05s 2.5ms)),
    (map { ['DialupLatency', '150ms', $_] } @all),
    (map { ['DialupUplink', $_, 'Directory'] } qw(8 33600 48k 675k 2M off)),
    (map { ['DialupUplink', '48k', $_] } @all),
    (map { ['DialupLine', $_, 'Directory'] }
         qw(per-client per-request Per-Client PER-REQUEST)),
    (map { ['DialupLine', 'per-client', $_] } @all),
    (map { ['DialupLineKey', '"%{HTTP:X-Dialup-Client}"', $_] }
         qw(server vhost Directory Location)),
    ['DialupLineKey', '"%{REMOTE_ADDR} %{HTTP:User-Agent}"', 'Directory'],
    (map { ['DialupLines', $_, 'server'] } qw(1 8 16384 1048576)),
);

plan tests => @bad + @good, need_module('dialup');

config_cases_ok('dialup-line-config', \%context, \@bad, \@good);
