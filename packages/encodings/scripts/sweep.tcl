# The tclsh side of scripts/sweep.mjs: answers conversion requests, one per line, until EOF.
#   D <encoding> <hex bytes>      -> hex of the UTF-16LE code units of `encoding convertfrom`
#   E <encoding> <hex UTF-16LE>   -> hex of the bytes of `encoding convertto`
# Errors are answered as "! <message>".
fconfigure stdin -translation lf -encoding ascii -buffersize 1048576
fconfigure stdout -translation lf -encoding ascii -buffering full -buffersize 1048576
while {[gets stdin line] >= 0} {
    lassign [split $line " "] op name hex
    # Keep one value per encoding name: it holds the loaded encoding, which Tcl would otherwise
    # free and load again from its file for every request.
    if {![info exists held($name)]} { set held($name) $name }
    set enc $held($name)
    if {[catch {
        if {$op eq "D"} {
            set s [encoding convertfrom $enc [binary decode hex $hex]]
            binary encode hex [encoding convertto unicode $s]
        } else {
            # A sentinel "A" after the text: convertfrom unicode drops a high surrogate at the end.
            set s [string range [encoding convertfrom unicode [binary decode hex ${hex}4100]] 0 end-1]
            binary encode hex [encoding convertto $enc $s]
        }
    } result]} {
        set result "! $result"
    }
    puts $result
    # Answer a batch as soon as its last request is read (the next gets would block).
    if {[chan pending input stdin] == 0} { flush stdout }
}
