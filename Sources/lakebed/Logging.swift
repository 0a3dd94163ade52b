public import ArgumentParser
import Foundation
import LakebedCore
public import Logging
import Synchronization

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// How log lines are written.
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// `ts=… level=info logger=lakebed.http msg="request" method=GET status=200` (one event per line, greppable).
    case logfmt
    /// One JSON object per line, for log shippers.
    case json
}

/// `--log-level` and `--log-format`, shared by the commands that log.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Least severe log level written to stderr (debug logs every HTTP request).", valueName: "level"))
    var logLevel: Logger.Level = .notice

    @Option(name: .long, help: ArgumentHelp("Log line format: logfmt (key=value) or json.", valueName: "format"))
    var logFormat: LogFormat = .logfmt

    /// Installs the structured log handler (once per process) and returns a logger at the chosen level.
    func bootstrap(label: String = "lakebed") -> Logger {
        let format = logFormat
        let level = logLevel
        StructuredLogHandler.bootstrapOnce { label in StructuredLogHandler(label: label, format: format, logLevel: level) }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// Writes one structured line per log event to stderr: a timestamp, the level, the logger's label, the message
/// and its metadata as fields.
struct StructuredLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    private static let installed = Mutex(false)
    private static let output = Mutex(FileHandle.standardError)

    static func bootstrapOnce(_ factory: @escaping @Sendable (String) -> any LogHandler) {
        let first = installed.withLock { done in
            defer { done = true }
            return !done
        }
        if first { LoggingSystem.bootstrap(factory) }
    }

    init(label: String, format: LogFormat, logLevel: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, String)] = [("ts", Self.timestamp()), ("level", event.level.rawValue), ("logger", label), ("msg", "\(event.message)")]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) { fields.append((k, "\(v)")) }
        let line = format == .json ? Self.json(fields) : Self.logfmt(fields)
        Self.output.withLock { $0.write(Data((line + "\n").utf8)) }
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { k, v in
            let needsQuotes = v.isEmpty || v.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
            let escaped = v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(
                of: "\n", with: "\\n")
            return "\(k)=" + (needsQuotes ? "\"\(escaped)\"" : escaped)
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { k, v in jsonString(k) + ":" + jsonString(v) }.joined(separator: ",") + "}"
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += u.value < 0x20 ? String(format: "\\u%04x", u.value) : String(u)
            }
        }
        return out + "\""
    }

    static func timestamp() -> String {
        // Wall-clock time: logs are about the process, not the lake clock.
        RucioDate.isoMillis(Date())
    }
}
