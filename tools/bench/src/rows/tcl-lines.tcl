# lines, tclsh end to end: pipelined line echo with -buffering full and explicit flushes.
# Server: on readable, gets/puts every complete line, then one flush. Client: non-blocking; a
# writable handler puts 100 lines and flushes (pausing while more than 64 KiB wait in Tcl's
# buffers); a readable handler gets and counts the echoes until all count lines came back.
source [file join [file dirname [info script]] tcl-common.tcl]

proc serverAccept {chan addr port} {
    incr ::accepted
    fconfigure $chan -translation lf -buffering full -blocking 0
    fileevent $chan readable [list serverEcho $chan]
}
proc serverEcho {chan} {
    while {[gets $chan line] >= 0} { puts $chan $line }
    if {[eof $chan]} { close $chan; return }
    flush $chan
}

# One 40-byte line (39 characters and the newline puts adds), like the node:net client's.
proc makeLine {i} {
    return [format "line %06d abcdefghijklmnopqrstuvwxyz0" $i]
}

proc clientWrite {s} {
    global sent count lines
    if {[chan pending output $s] > 65536} { return }
    set n [expr {min(100, $count - $sent)}]
    for {set i 0} {$i < $n} {incr i} {
        puts $s [lindex $lines [expr {($sent + $i) % 1000}]]
    }
    incr sent $n
    flush $s
    if {$sent >= $count} { fileevent $s writable {} }
}
proc clientRead {s} {
    global received count
    while {[gets $s line] >= 0} { incr received }
    if {$received >= $count} {
        set ::done ok
    } elseif {[eof $s]} {
        set ::done "EOF after $received lines"
    }
}

switch -- $role {
    server {
        announce serverAccept
        vwait forever
    }
    client {
        set count $opt(count)
        set lines {}
        for {set i 0} {$i < 1000} {incr i} { lappend lines [makeLine $i] }
        set sent 0
        set received 0
        set s [socket $opt(host) $opt(port)]
        fconfigure $s -translation lf -buffering full -blocking 0
        set start [clock microseconds]
        fileevent $s writable [list clientWrite $s]
        fileevent $s readable [list clientRead $s]
        vwait ::done
        set seconds [secondsSince $start]
        if {$::done ne "ok"} { fail "client: $::done" }
        if {$received != $count} { fail "client: $received lines came back for $count sent" }
        result ops $received seconds $seconds
        close $s
    }
    default { fail "usage: tcl-lines.tcl server|client key=value..." }
}
