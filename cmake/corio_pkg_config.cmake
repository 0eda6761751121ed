# corio_install_pkg_config(<name>): configures cmake/<name>.pc.in and installs it as
# <libdir>/pkgconfig/<name>.pc, beside the CMake package (lib/cmake/corio).
#
# The .pc files are relocatable: their prefix is ${pcfiledir} followed by the way back from
# <libdir>/pkgconfig to the prefix, computed here, so one file is right for
# `cmake --install --prefix <any>`, for DESTDIR and for a tree moved after installing (an
# absolute prefix written at configure time would be wrong for the first and the last).
function(corio_install_pkg_config name)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    message(WARNING "corio: absolute CMAKE_INSTALL_LIBDIR/INCLUDEDIR: ${name}.pc not installed")
    return()
  endif()
  file(RELATIVE_PATH CORIO_PC_RELATIVE_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${name}.pc.in ${PROJECT_BINARY_DIR}/${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${name}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
