# accept, tclsh server: accepts each connection and closes it at once.
source [file join [file dirname [info script]] tcl-common.tcl]

proc acceptClose {chan addr port} {
    incr ::accepted
    close $chan
}

if {$role ne "server"} { fail "usage: tcl-accept.tcl server" }
announce acceptClose
vwait forever
