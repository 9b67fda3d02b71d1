# Bench server for tclsh 8.6: `tclsh tcl-server.tcl accept|idle`.
# Prints "READY <port>"; each line on stdin is answered with "ok {"accepted":N}"; EOF on stdin exits.
# accept: every accepted channel is closed at once. idle: every accepted channel is kept open
# with a readable handler (as a real server has, and as Node's sockets are always reading).
set mode [lindex $argv 0]
set accepted 0
set held {}
proc acceptClose {chan addr port} {
    incr ::accepted
    close $chan
}
proc acceptHold {chan addr port} {
    incr ::accepted
    lappend ::held $chan
    fconfigure $chan -blocking 0
    fileevent $chan readable [list onReadable $chan]
}
proc onReadable {chan} {
    read $chan
    if {[eof $chan]} {
        close $chan
    }
}
set server [socket -server [expr {$mode eq "accept" ? "acceptClose" : "acceptHold"}] 0]
puts "READY [lindex [fconfigure $server -sockname] 2]"
flush stdout
proc onStdin {} {
    if {[gets stdin line] < 0} {
        exit 0
    }
    puts "ok {\"accepted\":$::accepted}"
    flush stdout
}
fileevent stdin readable onStdin
vwait forever
