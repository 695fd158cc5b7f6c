#!/bin/sh
# The demo's dynamic page: a guestbook that a CGI script writes as it
# goes, to show that mod_dialup paces any response, not only files.
# Shell only, so that the demo needs nothing beyond httpd's mod_cgid.
#
# A POST signs it: mod_cgid reads the request body from the client, which
# mod_dialup paces at the link's uplink rate, and hands it to this script.
# The script reads all of it: mod_cgid does not expect a script to leave
# its input unread (the response then loses its end and the browser waits
# for the keep-alive timeout).
signed=
if [ "${REQUEST_METHOD:-GET}" = POST ]; then
    signed=$(wc -c | tr -d ' ')
fi
printf 'Content-Type: text/html; charset=utf-8\r\n\r\n'
cat <<'HTML'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Guestbook</title>
</head>
<body bgcolor="#ffffee">
<h2>Sign my guestbook!</h2>
<p>This page is made by a CGI script each time it is asked for.</p>
HTML
if [ -n "$signed" ]; then
    printf '<p><b>Thank you for signing!</b>  Your %s bytes came in at ' \
        "$signed"
    printf 'the speed of your uplink.</p>\n'
fi
i=1
while [ $i -le 100 ]; do
    printf '<p><b>Visitor %03d</b> wrote: Cool page!  Greetings from the ' "$i"
    printf 'information superhighway.  Please visit my homepage too, it has '
    printf 'animated GIFs and a MIDI file.  See you in the chat room!</p>\n'
    i=$((i + 1))
done
printf '</body>\n</html>\n'
