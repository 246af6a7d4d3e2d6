#include <cctype>
#include <cmath>

#include "io/dataset_volume_common.h"
#include "io/nifti.h"

namespace gb::io::detail {

int64_t trailing_number(const std::string& s) {
  size_t e = s.size(), b = e;
  while (b > 0 && std::isdigit((unsigned char)s[b - 1])) --b;
  if (b == e || e - b > 15) return -1;
  return std::stoll(s.substr(b));
}

Sample load_volume_pair(const ItemInfo& info) {
  Sample s;
  s.info = info;
  s.is_volume = true;
  s.units = Units::HU;
  s.image = read_nifti(info.image_path);
  GB_CHECK(s.image.data.dim() == 3, info.image_path, ": expected a 3-D volume, got ", s.image.data.desc());
  if (info.label_path.empty()) return s;
  ReadOptions lo;
  lo.as_labels = true;
  s.label = read_nifti(info.label_path, lo);
  check_label_values(s.label.data, info.label_path);
  if (s.label.data.shape() != s.image.data.shape())
    fail(info.label_path, ": label shape ", str(s.label.data.shape()), " does not match image ", info.image_path,
         " shape ", str(s.image.data.shape()));
  for (int d = 0; d < 3; ++d) {
    double a = s.image.spacing[(size_t)d], b = s.label.spacing[(size_t)d];
    if (std::fabs(a - b) > 1e-3 * std::max(std::fabs(a), std::fabs(b)))
      fail(info.label_path, ": label spacing (", s.label.spacing[0], ", ", s.label.spacing[1], ", ",
           s.label.spacing[2], ") mm does not match image ", info.image_path, " spacing (", s.image.spacing[0], ", ",
           s.image.spacing[1], ", ", s.image.spacing[2], ") mm");
  }
  return s;
}

}  // namespace gb::io::detail
