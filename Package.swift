// swift-tools-version:6.0
import PackageDescription

/// As Hummingbird does: every module a file uses is imported there, and imports are internal unless a file says `public import`.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Lakebed",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lakebed", targets: ["lakebed"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", exact: "1.7.4"),
    ],
    targets: [
        .target(
            name: "LakebedCore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA, for SSH logins (Rucio checks the client's signature against the account's public keys).
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LakebedFTS",
            dependencies: ["LakebedCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LakebedDaemons",
            dependencies: ["LakebedCore", "LakebedFTS", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LakebedIAM",
            dependencies: [
                "LakebedCore", .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Rucio's side of OIDC (rucio.core.oidc): the API, storage and FTS accepting the IAM's tokens. The issuer itself
        // knows nothing of Rucio's catalog.
        .target(name: "LakebedOIDC", dependencies: ["LakebedCore", "LakebedIAM"], swiftSettings: swiftSettings),
        .target(
            name: "LakebedScenarios",
            dependencies: ["LakebedCore", "LakebedFTS", "LakebedDaemons", "LakebedIAM", "LakebedOIDC", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LakebedHTTP",
            dependencies: [
                "LakebedCore", "LakebedFTS", "LakebedDaemons", "LakebedIAM", "LakebedOIDC", "LakebedScenarios",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LakebedApp",
            dependencies: [
                "LakebedCore", "LakebedFTS", "LakebedDaemons", "LakebedIAM", "LakebedOIDC", "LakebedScenarios", "LakebedHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LakebedTesting",
            dependencies: ["LakebedCore", "LakebedFTS", "LakebedDaemons", "LakebedApp", "LakebedScenarios"],
            path: "Tests/LakebedTesting",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "lakebed",
            dependencies: [
                "LakebedCore", "LakebedApp", "LakebedDaemons", "LakebedFTS", "LakebedHTTP", "LakebedScenarios", "LakebedIAM", "LakebedOIDC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LakebedCoreTests", dependencies: ["LakebedCore", "LakebedTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LakebedFTSTests", dependencies: ["LakebedFTS", "LakebedDaemons", "LakebedCore", "LakebedTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LakebedScenariosTests",
            dependencies: ["LakebedScenarios", "LakebedFTS", "LakebedDaemons", "LakebedCore", "LakebedApp", "LakebedTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "LakebedIAMTests", dependencies: ["LakebedIAM", "LakebedOIDC", "LakebedCore", "LakebedTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LakebedHTTPTests",
            dependencies: [
                "LakebedHTTP", "LakebedCore", "LakebedIAM", "LakebedDaemons", "LakebedFTS", "LakebedTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LakebedAppTests",
            dependencies: [
                "LakebedApp", "LakebedTesting", "LakebedCore", "LakebedDaemons", "LakebedHTTP",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
