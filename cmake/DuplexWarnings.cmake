# Warnings every Duplex target is compiled with. Kept as an interface library so
# that warnings never leak into projects that consume the installed package.
add_library(duplex_warnings INTERFACE)
target_compile_options(duplex_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  # Designated initializers that leave fields at their defaults are the
  # intended way to pass options; this warning would flag every one.
  -Wno-missing-field-initializers
  $<$<BOOL:${DUPLEX_WERROR}>:-Werror>)
