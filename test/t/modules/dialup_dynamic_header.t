# The X-Dialup-Modem response header (issue 11): a handler or a backend
# chooses the modem of its response with it (a modem name, a rate or
# "off") where "DialupModemHeader on" allows it, and it is always removed
# from the response.  And the notes mod_dialup leaves for the access log
# after a paced response: %{dialup}n (the modem or rate) and
# %{dialup-ms}n (how long it paced), "-" for a response not paced.
#
# Configured in t/conf/dialup_dynamic.conf.in: a CGI script (written here)
# that prints the header asked for in its query string, in dialup/dyn/hdr/
# (DialupRate 160k, DialupModemHeader on; dialup/dyn/hdrmin/ the same with
# DialupMinRate 40k), dialup/dyn/hdronly/
# (DialupModemHeader on, no rate), dialup/dyn/hdroff/ (160k, the header
# not allowed by default), dialup/dyn/rateoff/ (DialupRate off) and
# dialup/dyn/plain/ (no mod_dialup configuration); and mod_proxy_http to a backend virtual host that sets
# "X-Dialup-Modem: 80k" (dialup/dyn/proxyhdr/, 160k, header allowed).
#
# For each response: status and body exact, paced at the chosen rate (or
# at once), no X-Dialup-Modem header (also in a HEAD, a DELETE, a CGI's
# 500 and where the rate is off), and its line in t/logs/
# dialup_notes_log with the modem and a time that matches the download.
# An invalid value is ignored (the configured rate applies) and logged at
# info level with AH19105; a header that is not allowed is logged at debug
# level with AH19112.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use Apache::TestUtil qw(t_write_perl_script);
use SuspendTest;
use DialupTest;

my $bogus = "bogus-$$";

# [name, path under /dialup/dyn/, expected bit/s (0: not paced), expected
# %{dialup}n, body size, what the test needs]
my @cases = (
    ['allowed, 80k', 'hdr/data.pl?modem=80k&size=20000', 80_000, '80k',
     20_000, 'cgi'],
    ['allowed, 640k (faster than configured)',
     'hdr/data.pl?modem=640k&size=40000', 640_000, '640k', 40_000, 'cgi'],
    ['allowed, a modem name: V.34', 'hdr/data.pl?modem=V.34&size=7200',
     28_800, 'V.34', 7_200, 'cgi'],
    ['allowed, 10k below DialupMinRate 40k: raised',
     'hdrmin/data.pl?modem=10k&size=10000', 40_000, '40000bit/s', 10_000,
     'cgi'],
    ['allowed, off', 'hdr/data.pl?modem=off&size=40000', 0, '-', 40_000,
     'cgi'],
    ['allowed, an invalid value: ignored',
     "hdr/data.pl?modem=$bogus&size=20000", 160_000, '160kbit/s', 20_000,
     'cgi'],
    ['allowed, no header', 'hdr/data.pl?size=20000', 160_000, '160kbit/s',
     20_000, 'cgi'],
    ['allowed, no rate configured, 80k',
     'hdronly/data.pl?modem=80k&size=20000', 80_000, '80k', 20_000, 'cgi'],
    ['allowed, no rate configured, no header', 'hdronly/data.pl?size=20000',
     0, '-', 20_000, 'cgi'],
    ['not allowed (default), 80k: ignored',
     'hdroff/data.pl?modem=80k&size=20000', 160_000, '160kbit/s', 20_000,
     'cgi'],
    ['not allowed (default), off: ignored',
     'hdroff/data.pl?modem=off&size=20000', 160_000, '160kbit/s', 20_000,
     'cgi'],
    ['proxied, the backend sets 80k', 'proxyhdr/f20k.txt', 80_000, '80k',
     20_000, 'proxy_http'],
);

plan tests => 5 * @cases + 16, need need_module('dialup'), need_cgi();

my $docroot = Apache::Test::vars('documentroot');
my $dyn = "$docroot/dialup/dyn";
my $t_logs = Apache::Test::vars('t_logs');
my $notes_log = "$t_logs/dialup_notes_log";
my $elog = "$t_logs/error_log";
my $elog_start = -s $elog || 0;

# The same script as in dialup_dynamic.t: content(size) after the headers
# asked for (status, modem for X-Dialup-Modem).
my $data_pl = <<'EOF';
use strict;
use warnings;
my %q = map { /^([^=]*)=(.*)$/ ? ($1, $2) : () }
        split /&/, $ENV{QUERY_STRING} || '';
my $size = $q{size} || 0;
binmode STDOUT;
print "Content-Type: text/plain\n";
print "Status: $q{status} From The Script\n" if $q{status};
print "X-Dialup-Modem: $q{modem}\n" if defined $q{modem};
print "\n";
my $s = join '', map { sprintf "%07d mod_dialup test data\n", $_ }
                 0 .. int($size / 29) + 1;
print substr($s, 0, $size);
EOF
t_write_perl_script("$dyn/$_/data.pl", $data_pl)
    for qw(hdr hdrmin hdronly hdroff rateoff plain);
t_write_file("$dyn/backend/hdr/f20k.txt", content(20_000));

my $n = 0;

# GET (or $method) /dialup/dyn/$path with a tag of its own in the query
# string, on a new connection closed afterwards; the response, with the
# path as the notes log shows it (%U%q) in {logged}.
sub fetch {
    my ($path, $method) = @_;
    my $url = "/dialup/dyn/$path" . ($path =~ /\?/ ? '&' : '?')
            . "tag=$$-" . ++$n;
    my $r = raw_get($url, method => $method || 'GET', timeout => 20);
    $r->{conn}->disconnect if $r->{conn};
    $r->{logged} = $url;
    return $r;
}

# The notes log's line for response $r: [modem, ms, status], or undef
# when it does not come within 10 s.
sub notes_of {
    my $r = shift;
    my $line = wait_for(10, sub {
        my ($l) = log_lines($notes_log, qr/ \Q$r->{logged}\E$/);
        $l;
    });
    return undef unless $line;
    t_debug("notes log: $line");
    my ($modem, $ms, $status) = $line =~ /^(\S+) (\S+) (\d+) /;
    return [$modem, $ms, $status];
}

# Checks the notes of response $r, paced at $rate (0: not paced) with
# modem $modem.  Two checks.
sub notes_ok {
    my ($r, $name, $rate, $modem) = @_;
    my $notes = notes_of($r) || ['(no log line)', '(no log line)'];
    ok t_cmp($notes->[0], $modem, "$name: %{dialup}n is $modem");
    if ($rate) {
        # The note counts from the response's first data to its end: no
        # more than the client waited, no less than most of the time its
        # bytes take.
        my $ideal = wire($r) * 8 / $rate * 1000;
        my $max = ($r->{elapsed} || 0) * 1000 + 500;
        ok t_cmp($notes->[1] =~ /^\d+$/ && $notes->[1] >= 0.7 * $ideal
                 && $notes->[1] <= $max ? 1 : 0, 1,
                 sprintf "%s: %%{dialup-ms}n %s, between %.0f and %.0f",
                 $name, $notes->[1], 0.7 * $ideal, $max);
    }
    else {
        ok t_cmp($notes->[1], '-', "$name: %{dialup-ms}n is -");
    }
}

for my $case (@cases) {
    my ($name, $path, $rate, $modem, $size, $need) = @$case;
    if ($need ne 'cgi' && !(have_module($need) && have_module('headers'))) {
        skip "$name: mod_$need or mod_headers is not loaded" for 1 .. 5;
        next;
    }
    my $r = fetch($path);
    my $data = content($size);
    ok t_cmp($r->{status} == 200 && $r->{complete}
             && body_matches($r->{body}, $data, $name) ? 1 : 0, 1,
             "$name: 200, body exact (got $r->{status}, "
             . length($r->{body}) . ' bytes)');
    if ($rate) {
        paced_ok($r, $name, $rate);
    }
    else {
        # 40 KB would take 2 s at the configured 160k.
        unpaced_ok($r, $name, 1.0);
    }
    ok t_cmp($r->{headers}{'x-dialup-modem'}, undef,
             "$name: no X-Dialup-Modem header in the response");
    notes_ok($r, $name, $rate, $modem);
}

# Responses that are not paced lose the header too.
{
    my $name = 'HEAD, allowed, 80k';
    my $r = fetch('hdr/data.pl?modem=80k&size=20000', 'HEAD');
    ok t_cmp($r->{status} == 200 && $r->{body} eq '' ? 1 : 0, 1,
             "$name: 200, no body (got $r->{status})");
    ok t_cmp($r->{headers}{'x-dialup-modem'}, undef,
             "$name: no X-Dialup-Modem header in the response");
    notes_ok($r, $name, 0, '-');

    $name = "a CGI's Status: 500, allowed, 80k";
    $r = fetch('hdr/data.pl?modem=80k&size=2000&status=500');
    ok t_cmp($r->{status} == 500
             && body_matches($r->{body}, content(2000), $name) ? 1 : 0, 1,
             "$name: 500 with the script's body (got $r->{status})");
    ok t_cmp($r->{headers}{'x-dialup-modem'}, undef,
             "$name: no X-Dialup-Modem header in the response");

    # Methods other than GET and POST are not paced.
    $name = 'DELETE, allowed, 80k';
    $r = fetch('hdr/data.pl?modem=80k&size=20000', 'DELETE');
    ok t_cmp($r->{status} == 200
             && body_matches($r->{body}, content(20_000), $name) ? 1 : 0, 1,
             "$name: 200, body exact (got $r->{status})");
    unpaced_ok($r, $name, 0.7);
    ok t_cmp($r->{headers}{'x-dialup-modem'}, undef,
             "$name: no X-Dialup-Modem header in the response");

    # Where pacing is off, the header is not allowed (the default) and
    # removed all the same: the module could pace there.
    $name = 'DialupRate off, 80k';
    $r = fetch('rateoff/data.pl?modem=80k&size=20000');
    ok t_cmp($r->{status} == 200
             && body_matches($r->{body}, content(20_000), $name) ? 1 : 0, 1,
             "$name: 200, body exact (got $r->{status})");
    unpaced_ok($r, $name, 0.7);
    ok t_cmp($r->{headers}{'x-dialup-modem'}, undef,
             "$name: no X-Dialup-Modem header in the response");

    # Where mod_dialup has no configuration at all, DialupModemHeader is
    # off too: not honoured.  (The module leaves such responses alone, the
    # header included: "where the module paces or could, the header is
    # always removed", says mod_dialup.xml.)
    $name = 'no mod_dialup configuration, 80k';
    $r = fetch('plain/data.pl?modem=80k&size=20000');
    ok t_cmp($r->{status} == 200
             && body_matches($r->{body}, content(20_000), $name) ? 1 : 0, 1,
             "$name: 200, body exact (got $r->{status})");
    unpaced_ok($r, $name, 0.7);
    t_debug("$name: X-Dialup-Modem in the response: "
            . ($r->{headers}{'x-dialup-modem'} // 'none'));
}

# What the error log says about the values not used.
{
    my @lines = wait_for(5, sub {
        my @l = error_log_since($elog, $elog_start,
                                qr/AH19105: .*X-Dialup-Modem=\Q$bogus\E\b/);
        @l ? \@l : undef;
    });
    ok t_cmp(($lines[0] && $lines[0][0] || '') =~ /:info\]/ ? 1 : 0, 1,
             "X-Dialup-Modem: $bogus: AH19105 at info level");
    @lines = error_log_since($elog, $elog_start,
                             qr/AH19112: .*X-Dialup-Modem: 80k .*DialupModemHeader is off/);
    ok t_cmp(($lines[0] || '') =~ /:debug\]/ ? 1 : 0, 1,
             'X-Dialup-Modem not allowed: AH19112 at debug level');
}
