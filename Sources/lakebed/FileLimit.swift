import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Open files: every client connection is one, so the soft limit (often 1,024) is where a lake stops taking new
/// clients. `serve` raises it to the hard limit, as servers do.
enum FileLimit {
    /// Raises the soft RLIMIT_NOFILE to the hard one (or as near as the kernel allows); returns the limit now in force.
    @discardableResult
    static func raise() -> UInt64 {
        var lim = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &lim) == 0 else { return 0 }
        guard lim.rlim_cur < lim.rlim_max else { return UInt64(lim.rlim_cur) }
        // An unlimited hard limit cannot be the soft one for files: try it, then the usual kernel ceilings.
        for want in [lim.rlim_max, 1 << 20, 1 << 16] where want > lim.rlim_cur && want <= lim.rlim_max {
            var next = lim
            next.rlim_cur = want
            if setrlimit(resource, &next) == 0 { return UInt64(want) }
        }
        return UInt64(lim.rlim_cur)
    }
}
