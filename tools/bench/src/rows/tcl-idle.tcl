# idle, tclsh server: keeps every connection open, non-blocking with a readable handler, as a
# real Tcl server would. tclsh 8.6 on Linux waits with select(): past descriptor 1023
# (FD_SETSIZE) it aborts, so this row stops near 1,020 connections; the harness reports that.
source [file join [file dirname [info script]] tcl-common.tcl]

proc holdAccept {chan addr port} {
    incr ::accepted
    fconfigure $chan -blocking 0
    fileevent $chan readable [list holdRead $chan]
}
proc holdRead {chan} {
    read $chan
    if {[eof $chan]} { close $chan }
}

if {$role ne "server"} { fail "usage: tcl-idle.tcl server" }
announce holdAccept
vwait forever
