# Installation and package export so users can find_package(duplex).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS duplex duplex_push EXPORT duplexTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/duplex
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT duplexTargets NAMESPACE duplex::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/duplex)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/duplexConfig.cmake.in
  ${PROJECT_BINARY_DIR}/duplexConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/duplex)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/duplexConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/duplexConfig.cmake
              ${PROJECT_BINARY_DIR}/duplexConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/duplex)
