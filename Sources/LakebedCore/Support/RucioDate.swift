public import Foundation

/// Rucio's date formats, rendered without Foundation formatters (fast and locale-free).
public enum RucioDate {
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Civil date parts of a UTC instant.
    struct Parts { var y, m, d, hh, mm, ss, weekday: Int }

    /// Seconds since 1970 pinned to the years 1…9999 (NaN as 0), so any stored instant renders instead of trapping.
    static func seconds(_ date: Date) -> Double {
        let t = date.timeIntervalSince1970
        return t.isNaN ? 0 : min(max(t, -62_135_596_800), 253_402_300_799)
    }

    static func parts(_ date: Date) -> Parts {
        let t = Int(floor(seconds(date)))
        var days = t / 86400
        var rem = t % 86400
        if rem < 0 {
            rem += 86400
            days -= 1
        }
        let weekday = ((days % 7) + 7) % 7
        // Howard Hinnant's civil_from_days
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y0 = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return Parts(y: m <= 2 ? y0 + 1 : y0, m: m, d: d, hh: rem / 3600, mm: (rem % 3600) / 60, ss: rem % 60, weekday: weekday)
    }

    static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// `Tue, 25 Nov 2025 10:00:00 UTC`, the format of Rucio's JSON encoder and token expiry header.
    public static func rfc1123(_ date: Date) -> String {
        let p = parts(date)
        return "\(days[p.weekday]), \(two(p.d)) \(months[p.m - 1]) \(p.y) \(two(p.hh)):\(two(p.mm)):\(two(p.ss)) UTC"
    }

    /// `2025-11-25T10:00:00`, used by account documents and FTS.
    public static func iso(_ date: Date) -> String {
        let p = parts(date)
        return "\(p.y)-\(two(p.m))-\(two(p.d))T\(two(p.hh)):\(two(p.mm)):\(two(p.ss))"
    }

    /// `2025-11-25T10:00:00.250Z`: event logs (millisecond precision, deterministic).
    public static func isoMillis(_ date: Date) -> String {
        let ms = Int((seconds(date) * 1000).rounded())
        let whole = Date(timeIntervalSince1970: Double(ms.floorDiv(1000)))
        let frac = ((ms % 1000) + 1000) % 1000
        return iso(whole) + "." + String(repeating: "0", count: frac < 10 ? 2 : frac < 100 ? 1 : 0) + "\(frac)Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]` or the RFC1123 form, as UTC.
    public static func parse(_ s: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        for fmt in [
            "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS", "yyyy-MM-dd'T'HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss",
            "EEE, dd MMM yyyy HH:mm:ss 'UTC'", "yyyy-MM-dd",
        ] {
            f.dateFormat = fmt
            if let d = f.date(from: s) { return d }
        }
        return nil
    }
}

extension Int {
    func floorDiv(_ d: Int) -> Int { self >= 0 ? self / d : -((-self + d - 1) / d) }
}
