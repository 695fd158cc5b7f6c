# ModemStandard, DialupRate and DialupMinRate values checked by "httpd
# -t": every bad value stops the server from starting, with a message that names the
# directive, the value and what is accepted; every good one (modem names
# in any case, rates from 8 bit/s to 100 Gbit/s with k or M, "off") in
# every context passes.
#
# Each case is a small config of its own, written to t/logs/dialup-config/,
# that loads only the MPM of this run and mod_dialup from the install tree
# the suite runs against; the test server is not involved.

use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil;
use File::Path qw(mkpath rmtree);

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

sub min_rate_error {
    "DialupMinRate: '$_[0]' is neither a modem standard ("
    . join(', ', @modems) . ') nor a rate in bits per second from 8 to '
    . '100000000000 (digits with an optional k or M suffix, e.g. 2400, 56k)';
}

# Where a directive goes: server config, <VirtualHost>, <Directory>,
# <Location>, <Files> (.htaccess: see dialup_inherit.t).
my %context = (
    server    => ['', ''],
    vhost     => ["<VirtualHost 127.0.0.1:1>\n    ServerName vhost.test\n",
                  "</VirtualHost>\n"],
    Directory => ["<Directory \"/nonexistent/dialup\">\n", "</Directory>\n"],
    Location  => ["<Location \"/dialup/\">\n", "</Location>\n"],
    Files     => ["<Files \"*.txt\">\n", "</Files>\n"],
);

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
    (map { (['ModemStandard', 'V.92', $_], ['DialupRate', '56k', $_],
            ['DialupMinRate', 'V.22', $_]) }
         sort keys %context),
);

plan tests => @bad + @good, need_module('dialup');

my $cfg = Apache::Test::config();
my $httpd = Apache::Test::vars('httpd');
my $mpm = $cfg->{server}{mpm} || 'event';
my $libexec = eval { `"$cfg->{vars}{apxs}" -q libexecdir 2>/dev/null` } || '';
chomp $libexec;

# The shared object of a module: the path the suite loads it from, or
# the install tree's modules directory; undef when built in.
sub so_of {
    my ($name) = @_;
    my $p = $cfg->{modules}{"mod_$name.c"};
    return $p if defined $p && $p =~ m{/} && -f $p;
    my $f = "$libexec/mod_$name.so";
    return -f $f ? $f : undef;
}
my $dialup_so = so_of('dialup');
my $mpm_so = so_of("mpm_$mpm");
t_debug("httpd $httpd, mod_dialup " . ($dialup_so || 'built in')
        . ", MPM $mpm " . ($mpm_so || 'built in'));

my $dir = Apache::Test::vars('t_logs') . '/dialup-config';
rmtree($dir);
mkpath($dir);

my $n = 0;

# Writes a config with $directive $value in $ctx, runs httpd -t on it.
# Returns (exit status, output).
sub config_test {
    my ($directive, $value, $ctx) = @_;
    my ($open, $close) = @{ $context{$ctx} };
    my $file = sprintf '%s/case%03d.conf', $dir, ++$n;
    open my $fh, '>', $file or die "$file: $!";
    print $fh <<EOF;
# dialup_config.t case $n: $directive $value in $ctx
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:1
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
ErrorLog "$dir/error_log"
EOF
    print $fh "LoadModule mpm_${mpm}_module \"$mpm_so\"\n" if $mpm_so;
    print $fh "LoadModule dialup_module \"$dialup_so\"\n" if $dialup_so;
    print $fh "${open}    $directive $value\n$close";
    close $fh;
    my $out = `"$httpd" -d "$dir" -f "$file" -t 2>&1`;
    return ($? >> 8, $out);
}

for my $case (@bad) {
    my ($directive, $value, $ctx, $want) = @$case;
    my ($rc, $out) = config_test(@$case);
    # The message is the line after "AH00526: Syntax error on line N".
    my ($msg) = $out =~ /^(\Q$directive\E\b.*)$/m;
    $msg = "httpd -t exited with $rc: $out" if $rc == 0 || !defined $msg;
    ok t_cmp($msg, $want, "$directive $value ($ctx): httpd -t fails");
}

for my $case (@good) {
    my ($directive, $value, $ctx) = @$case;
    my ($rc, $out) = config_test(@$case);
    chomp $out;
    ok t_cmp("$rc $out", '0 Syntax OK', "$directive $value ($ctx): passes");
}
