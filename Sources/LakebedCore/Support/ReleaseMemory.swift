#if canImport(Glibc)
import Glibc
#endif

/// Gives memory the process freed back to the system. glibc keeps freed small blocks (SQLite's cache pages, a
/// batch's rows) in its heap for reuse, so after a bulk job the resident size would stay at its peak.
public enum ReleaseMemory {
    /// Returns freed heap memory to the system now.
    public static func now() {
        #if canImport(Glibc)
        // glibc's `malloc_trim`, looked up at run time: Swift's Glibc module does not export it.
        typealias Trim = @convention(c) (Int) -> Int32
        if let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") {
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        #endif
    }
}
