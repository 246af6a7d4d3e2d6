// Helpers shared by the NIfTI volume adapters (LiTS, MSD): loading an image/label pair with all
// checks. Internal to io/.
#pragma once
#include <string>

#include "io/dataset.h"

namespace gb::io::detail {

// Reads image (f32 HU) and label (i32) and checks: label values in {0,1,2}; same shape; spacing
// equal within 1e-3 relative. Errors name both files. label_path may be empty (unlabelled).
Sample load_volume_pair(const ItemInfo& info);
// Trailing number of a name ("liver_12" -> 12), -1 when none.
int64_t trailing_number(const std::string& s);

}  // namespace gb::io::detail
