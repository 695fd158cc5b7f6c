# server-status shows the shared lines (issue 12): the table of the lines
# in use (Client, Line (bit/s), Downloads, Bytes sent, Each (bit/s)) and,
# in ?auto, DialupLinesUsed and DialupLinesTotal.  The table is in
# memory that all children share: any child answers with the same lines,
# prefork's too.
#
# client-s downloads three 40 KB files at once and client-t one, from
# dialup/line/keyed/ (t/conf/dialup_line.conf.in: 160k, keyed by
# X-Dialup-Client): client-s's take about 6 s, client-t's 2 s.  Sampled
# at 0.8, 1.2, 1.6 and 3.0 s: client-s's line with 3 active transfers at
# 160 kbit/s, each at a third of it, its bytes growing; client-t's with 1;
# DialupLinesUsed at least 2; DialupLinesTotal 8 (DialupLines).
# Afterwards DialupLinesUsed back to 0 and client-s's line not in use,
# when the server was quiet before.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;

plan tests => 10, need need_module('dialup'), need_module('status');

my $docroot = Apache::Test::vars('documentroot');
my $data = content(40_000);
t_write_file("$docroot/dialup/line/keyed/40k.txt", $data);
my $tag = "lstatus$$";

# A rate in a cell ("53333 bit/s", "53.3 kbit/s", "53333"), in bit/s.
sub bits {
    my $cell = shift;
    my ($n, $unit) = $cell =~ /([\d.]+)\s*([kKmM]?)/ or return undef;
    return $n * ($unit =~ /k/i ? 1000 : $unit =~ /m/i ? 1_000_000 : 1);
}

my $quiet = quiet_server();
my (@auto, @tables);
my $sample = sub {
    push @auto, status_auto();
    my @rows = lines_table(status_html());
    t_debug('lines: ' . join ' | ', map { join ', ', @$_ } @rows);
    push @tables, \@rows;
};
my @res = many_get([(map { { path => "/dialup/line/keyed/40k.txt?$tag-s$_",
                             name => "client-s $_",
                             headers => ['X-Dialup-Client' => 'client-s'] } }
                         1 .. 3),
                    { path => "/dialup/line/keyed/40k.txt?$tag-t",
                      name => 'client-t',
                      headers => ['X-Dialup-Client' => 'client-t'] }],
                   timeout => 40,
                   at => [map { [$_, $sample] } 0.8, 1.2, 1.6, 3.0]);

ok t_cmp(scalar(grep { $_->{status} == 200 && $_->{complete}
                       && $_->{body} eq $data } @res), 4,
         '4 downloads: 200, bodies exact');

# Rows of a key in the samples.
sub rows_of {
    my $key = shift;
    return map { my ($r) = grep { $_->[0] eq $key } @$_; $r ? $r : () }
           @tables;
}
my @s = rows_of('client-s');
my @t = rows_of('client-t');
ok t_cmp(scalar(grep { ($_->[2] // '') eq '3' } @s) ? 1 : 0, 1,
         'client-s: a line with 3 active transfers (active in '
         . @tables . ' samples: ' . join(' ', map { $_->[2] // '-' } @s)
         . ')');
ok t_cmp(scalar(grep { ($_->[2] // '') eq '1' } @t) ? 1 : 0, 1,
         'client-t: a line with 1 active transfer (active: '
         . join(' ', map { $_->[2] // '-' } @t) . ')');
ok t_cmp(@s && !(grep { ($_->[1] // '') !~ /160/ } @s) ? 1 : 0, 1,
         'client-s: the link is 160 kbit/s ('
         . join(', ', map { $_->[1] // '-' } @s) . ')');
my @sent = map { $_->[3] // '' } @s;
my $grows = @sent >= 2 && !grep { !/^\d+$/ } @sent;
for my $i (1 .. $#sent) {
    $grows &&= $sent[$i] > $sent[$i - 1];
}
ok t_cmp($grows ? 1 : 0, 1, "client-s: bytes sent growing (@sent)");
my ($three) = grep { ($_->[2] // '') eq '3' } @s;
my $each = $three ? bits($three->[4] // '') : undef;
ok t_cmp(defined $each && $each > 0.9 * 160_000 / 3 && $each < 1.1 * 160_000 / 3
         ? 1 : 0, 1, 'client-s: each of 3 transfers at a third of the line ('
         . ($three ? $three->[4] // '-' : 'no row') . ')');

my @used = map { $_->{DialupLinesUsed} // '-' } @auto;
my ($umax) = sort { $b <=> $a } map { /^\d+$/ ? $_ : 0 } @used;
ok t_cmp(($umax || 0) >= 2 ? 1 : 0, 1,
         "DialupLinesUsed at least 2 while both download (@used)");
ok t_cmp(join(' ', map { $_->{DialupLinesTotal} // '-' } @auto),
         join(' ', (8) x @auto), 'DialupLinesTotal 8');

if ($quiet->{quiet}) {
    ok t_cmp(status_zero_within(20, 'DialupLinesUsed', 2), 1,
             'DialupLinesUsed back to 0');
    my @after = lines_table(status_html());
    my ($row) = grep { $_->[0] eq 'client-s' } @after;
    ok t_cmp(!$row || ($row->[2] // '') eq '0' ? 1 : 0, 1,
             'client-s\'s line no longer in use'
             . ($row ? ' (' . join(', ', @$row) . ')' : ''));
}
else {
    skip "server not quiet before the test ($quiet->{left})" for 1 .. 2;
}
