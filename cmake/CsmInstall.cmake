# Every install rule of the project, by component:
#   runtime  libcsm (the shared object when BUILD_SHARED_LIBS=ON)
#   dev      headers, libcsm.so / libcsm.a, CMake package (csm::csm), csm.pc
#   tools    csm-ping and its man page
#   dkms     kernel module source + dkms.conf under <prefix>/src/csm-<version>
#            (not in a plain `cmake --install`: ask for it with --component dkms)
#   system   udev rule (/dev/csm to group csm, 0660) and sysusers.d group
#            (not in a plain install either: --component system)
# packaging/build-debs.sh splits these into Debian packages; docs/installing.md
# says how to use each by hand.
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

set(CSM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/csm)
get_target_property(_csm_type csm TYPE)
if(_csm_type STREQUAL "STATIC_LIBRARY")
  set(CSM_STATIC_LIB ON)
else()
  set(CSM_STATIC_LIB OFF)
endif()

install(TARGETS csm EXPORT csmTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/csm
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")

# CMake package: find_package(csm CONFIG REQUIRED) -> csm::csm.
install(EXPORT csmTargets NAMESPACE csm:: DESTINATION ${CSM_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/csmConfig.cmake.in
  ${PROJECT_BINARY_DIR}/csm-package/csmConfig.cmake
  INSTALL_DESTINATION ${CSM_CMAKE_DIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/csm-package/csmConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/csm-package/csmConfig.cmake
              ${PROJECT_BINARY_DIR}/csm-package/csmConfigVersion.cmake
  DESTINATION ${CSM_CMAKE_DIR} COMPONENT dev)

# pkg-config. A shared libcsm hides liburing and OpenSSL; a static one
# cannot, and a static-only install has no other library for plain
# `pkg-config --libs csm` to find, so its needs are public.
set(CSM_PC_REQUIRES "absl_status absl_statusor absl_strings absl_str_format absl_time")
if(CSM_STATIC_LIB)
  string(APPEND CSM_PC_REQUIRES " liburing libcrypto libcbor")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  message(FATAL_ERROR "csm: csm.pc needs CMAKE_INSTALL_LIBDIR and CMAKE_INSTALL_INCLUDEDIR relative to the prefix")
endif()
set(CSM_PC_PREFIX "@CSM_PC_PREFIX@")  # filled in at install time
configure_file(${PROJECT_SOURCE_DIR}/cmake/csm.pc.in ${PROJECT_BINARY_DIR}/csm-package/csm.pc.in @ONLY)
# The prefix is the one given at install time (cmake --install --prefix).
install(CODE "
  set(CSM_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/csm-package/csm.pc.in\"
                 \"${PROJECT_BINARY_DIR}/csm-package/csm.pc\" @ONLY)"
  COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/csm-package/csm.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# Tools.
if(TARGET csm-ping)
  install(TARGETS csm-ping RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/man/csm-ping.1
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
endif()

# DKMS source tree: dkms.conf at the top, the module in kmod/, and the UAPI
# header where kmod/Kbuild looks for it (../include).
set(CSM_DKMS_DIR src/csm-${PROJECT_VERSION})
configure_file(${PROJECT_SOURCE_DIR}/packaging/dkms/dkms.conf.in
  ${PROJECT_BINARY_DIR}/csm-package/dkms.conf @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/csm-package/dkms.conf
  DESTINATION ${CSM_DKMS_DIR} COMPONENT dkms EXCLUDE_FROM_ALL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/kmod/
  DESTINATION ${CSM_DKMS_DIR}/kmod COMPONENT dkms EXCLUDE_FROM_ALL
  FILES_MATCHING PATTERN "*.c" PATTERN "*.h" PATTERN "Kbuild" PATTERN "Makefile"
  PATTERN "*.mod.c" EXCLUDE PATTERN ".*" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/include/csm/uapi/csm.h
              ${PROJECT_SOURCE_DIR}/include/csm/uapi/attestation_cca.h
  DESTINATION ${CSM_DKMS_DIR}/include/csm/uapi COMPONENT dkms EXCLUDE_FROM_ALL)

# Device access: the udev rule and the group it names.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/udev/60-csm.rules
  DESTINATION lib/udev/rules.d COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/sysusers/csm.conf
  DESTINATION lib/sysusers.d COMPONENT system EXCLUDE_FROM_ALL)
