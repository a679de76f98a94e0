"""The preview's user-interface strings, in Vietnamese (the default) and English.

Templates call `t(key)`; a key missing in English falls back to Vietnamese, then to the key
itself. Placeholders are written `{name}` and filled in by the templates with `replace`.
"""

from __future__ import annotations

from collections.abc import Callable

DEFAULT_LANGUAGE = "vi"

UI_STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        # -- application shell
        "app.name": "Xem trước bài đăng",
        "app.generated_at": "Cập nhật lúc {when}",
        "app.generated_help": "Thời điểm trang này được tạo từ thư mục làm việc",
        "app.live": "Tự cập nhật",
        "app.live_help": "Trang tự tải lại ngay khi bạn lưu một tệp trong thư mục làm việc",
        "app.footer": (
            "Bản xem trước được dựng từ đúng các yêu cầu sẽ gửi tới từng nền tảng. "
            "Giao diện nền tảng chỉ mang tính mô phỏng."
        ),
        "app.preparing": "Đang chuẩn bị trang này",
        "app.preparing_help": (
            "Ảnh và bài đăng từng kênh vẫn đang được dựng; trang sẽ tự tải lại sau giây lát."
        ),
        "lang.other": "English",
        "lang.other_code": "en",
        "nav.label": "Điều hướng chính",
        "nav.items": "Nội dung",
        "nav.calendar": "Lịch đăng",
        "nav.status": "Tình hình đăng",
        "nav.skip": "Bỏ qua, đến nội dung chính",
        "nav.breadcrumb": "Đường dẫn",
        "number.thousands": ".",
        # -- channels
        "channel.portal": "Cổng thông tin",
        "channel.facebook": "Facebook",
        "channel.zalo": "Zalo OA",
        "channel.youtube": "YouTube",
        "channel.telegram": "Telegram",
        # -- kinds and statuses
        "kind.article": "Bài viết",
        "kind.infographic": "Infographic",
        "kind.video": "Video",
        "status.draft": "Bản nháp",
        "status.ready": "Sẵn sàng",
        "status_help.draft": "Chỉ để xem trước, không bao giờ được đăng (status: draft)",
        "status_help.ready": "Sẽ được đăng theo lịch (status: ready)",
        # -- delivery states
        "state.draft": "Bản nháp",
        "state.ready": "Sẵn sàng",
        "state.not planned": "Chưa xếp lịch",
        "state.planned": "Đã xếp lịch",
        "state.scheduled": "Đã hẹn giờ",
        "state.sending": "Đang gửi",
        "state.published": "Đã đăng",
        "state.failed": "Lỗi",
        "state.unknown": "Chưa rõ kết quả",
        "state.skipped-late": "Bỏ qua (quá giờ)",
        "state.cancelled": "Đã hủy",
        # -- problems
        "severity.error": "Lỗi",
        "severity.warning": "Cảnh báo",
        "count.errors": "{n} lỗi",
        "count.warnings": "{n} cảnh báo",
        # -- index page
        "index.title": "Nội dung chiến dịch",
        "index.lede": (
            "Kiểm tra từng tin bài trước khi đăng: mỗi kênh hiển thị ra sao "
            "và còn vấn đề gì cần xử lý."
        ),
        "index.stat_items": "Mục nội dung",
        "index.stat_errors": "Lỗi",
        "index.stat_warnings": "Cảnh báo",
        "index.problems_title": "Vấn đề khi đọc thư mục làm việc",
        "index.problems_help": (
            "Mục có lỗi sẽ bị bỏ qua, các mục khác vẫn được đăng bình thường. "
            "Sửa tệp tại đúng dòng được chỉ ra rồi lưu lại: trang sẽ tự cập nhật."
        ),
        "index.no_next": "—",
        "index.not_on_channel": "không đăng lên kênh này",
        "index.no_match": "Không có mục nào khớp với bộ lọc.",
        "index.no_items": "Thư mục content/ chưa có tin bài nào.",
        "col.title": "Tiêu đề",
        "col.state": "Tình trạng",
        "col.next": "Lần đăng tới",
        "col.item": "Tin bài",
        "col.channel": "Kênh",
        "col.error": "Lỗi",
        "col.what_happened": "Sự cố",
        "col.when": "Thời điểm",
        "col.action": "Cách xử lý",
        "col.due": "Giờ đăng",
        "col.published_at": "Đăng lúc",
        "col.link": "Liên kết",
        # -- filters
        "filter.label": "Lọc danh sách",
        "filter.search": "Tìm theo tiêu đề",
        "filter.search_placeholder": "Tìm theo tiêu đề (gõ có dấu hoặc không dấu)…",
        "filter.kind": "Loại",
        "filter.all_kinds": "Tất cả",
        "filter.state": "Tình trạng",
        "filter.all_states": "Tất cả",
        "filter.channel": "Kênh",
        "filter.all_channels": "Tất cả",
        "filter.only_problems": "Chỉ hiện mục có vấn đề",
        "filter.reset": "Xóa bộ lọc",
        "filter.showing": "Đang hiện {shown}/{total} mục",
        # -- legends
        "legend.title": "Chú giải",
        "legend.errors": "số lỗi",
        "legend.warnings": "số cảnh báo",
        "legend.click_cell": "Bấm vào một ô để xem bài trên kênh đó.",
        "legend.channels": "Kênh",
        "legend.states": "Tình trạng",
        "legend.days": "Ngày",
        # -- item page
        "item.back": "Tất cả nội dung",
        "item.id": "Mã",
        "item.file": "Tệp",
        "item.channels": "Các kênh của tin bài",
        "item.total": "Tổng cộng: {errors} lỗi, {warnings} cảnh báo",
        "item.total_ok": "Không có vấn đề nào",
        "item.draft_notice": (
            "Bản nháp: chỉ để xem trước, sẽ không được đăng lên kênh nào "
            "cho đến khi đổi thành status: ready."
        ),
        "item.verdict_ok": "Sẵn sàng đăng",
        "item.verdict_warn": "{n} cảnh báo",
        "item.verdict_blocked": "Sẽ không được đăng",
        "item.blocked": "Sẽ không được đăng:",
        "item.blocked_more": "(và {n} lỗi khác)",
        "item.counts": "Độ dài so với giới hạn",
        "item.over_by": "Vượt {n}",
        "item.raw": "Yêu cầu gửi đi (JSON)",
        "item.raw_help": "Đúng các yêu cầu sẽ gửi tới nền tảng, theo thứ tự.",
        "item.no_mock": "Không dựng được bản xem trước cho kênh này; xem các vấn đề ở trên.",
        "item.no_channels": "Tin bài này không được đăng lên kênh nào.",
        "field.message": "Nội dung bài đăng",
        "field.message_n": "Tin nhắn {n}",
        "field.title": "Tiêu đề",
        "field.author": "Tác giả",
        "field.description": "Mô tả",
        "field.tags": "Thẻ",
        "field.hashtags": "Hashtag",
        "field.caption": "Chú thích ảnh",
        "field.photo": "Chú thích ảnh",
        "field.album": "Chú thích album",
        "unit.chars": "ký tự",
        "unit.bytes": "byte",
        "unit.utf16": "ký tự (cách Telegram đếm)",
        # -- Facebook mock-up
        "fb.just_now": "Vừa xong",
        "fb.public": "Công khai",
        "fb.see_more": "Xem thêm",
        "fb.see_less": "Ẩn bớt",
        "fb.like": "Thích",
        "fb.comment": "Bình luận",
        "fb.share": "Chia sẻ",
        # -- Zalo mock-up
        "zalo.official_account": "Official Account",
        "zalo.follow": "Quan tâm",
        "zalo.like": "Thích",
        "zalo.share": "Chia sẻ",
        "zalo.broadcast": "Gửi đến người quan tâm: người quan tâm OA sẽ nhận tin nhắn này",
        # -- YouTube mock-up
        "yt.thumbnail": "Ảnh thu nhỏ",
        "yt.no_thumbnail": "Không có ảnh thu nhỏ: YouTube tự chọn một khung hình",
        "yt.keeps_thumbnail": "Video giữ nguyên ảnh thu nhỏ hiện có",
        "yt.subscribe": "Đăng ký",
        "yt.share": "Chia sẻ",
        "yt.save": "Lưu",
        "yt.no_views": "Chưa có lượt xem",
        "yt.just_now": "Vừa xong",
        "yt.show_more": "Hiện thêm",
        "yt.show_less": "Ẩn bớt",
        "yt.comments": "Bình luận",
        "yt.add_comment": "Viết bình luận…",
        "yt.mode_upload": "Tải lên video mới",
        "yt.mode_update": "Cập nhật tiêu đề, mô tả của video đã có:",
        "yt.tags": "Thẻ (không hiện công khai):",
        # -- Telegram mock-up
        "tg.channel": "kênh công khai",
        "tg.today": "Hôm nay",
        "tg.mute": "Tắt thông báo",
        "tg.pending": "Chưa gửi",
        # -- portal mock-up
        "portal.frame_title": "Trang bài viết trên cổng thông tin",
        "portal.open": "Mở trang bài viết trong thẻ mới",
        "portal.public_url": "Địa chỉ công khai",
        "portal.help": (
            "Khung bên cạnh là trang bài viết thu nhỏ, như khi mở trên máy tính xách tay. "
            "Bài đăng trên mạng xã hội sẽ dẫn về địa chỉ này."
        ),
        # -- calendar
        "cal.title": "Lịch đăng bài",
        "cal.lede": (
            "Mỗi bài đăng theo giờ địa phương, tô màu theo kênh và theo tình trạng. "
            "Bấm vào một bài để xem trước."
        ),
        "cal.month": "Tháng {month}/{year}",
        "month.1": "tháng 1",
        "month.2": "tháng 2",
        "month.3": "tháng 3",
        "month.4": "tháng 4",
        "month.5": "tháng 5",
        "month.6": "tháng 6",
        "month.7": "tháng 7",
        "month.8": "tháng 8",
        "month.9": "tháng 9",
        "month.10": "tháng 10",
        "month.11": "tháng 11",
        "month.12": "tháng 12",
        "cal.post_count": "{n} lượt đăng",
        "cal.sprint": "Giai đoạn nước rút",
        "cal.blackout": "Ngày không đăng",
        "cal.blackout_help": "Ngày tạm dừng đăng bài của chiến dịch",
        "cal.today": "Hôm nay",
        "cal.empty": "Chưa có chiến dịch nào trong schedules.yaml.",
        "weekday.mon": "T2",
        "weekday.tue": "T3",
        "weekday.wed": "T4",
        "weekday.thu": "T5",
        "weekday.fri": "T6",
        "weekday.sat": "T7",
        "weekday.sun": "CN",
        "weekday_long.mon": "Thứ Hai",
        "weekday_long.tue": "Thứ Ba",
        "weekday_long.wed": "Thứ Tư",
        "weekday_long.thu": "Thứ Năm",
        "weekday_long.fri": "Thứ Sáu",
        "weekday_long.sat": "Thứ Bảy",
        "weekday_long.sun": "Chủ Nhật",
        # -- status page
        "st.title": "Tình hình đăng bài",
        "st.lede": (
            "Những gì đã đăng, bài nào lỗi và vì sao, bài nào chưa rõ kết quả "
            "và cần làm gì, bài nào sắp đăng."
        ),
        "st.counts": "Số lượt đăng theo tình trạng",
        "st.paused": "Kênh đang tạm dừng",
        "st.store_problem": "Không đọc được kho trạng thái: không có bài nào được đăng",
        "st.since": "từ {when}",
        "st.paused_advice": (
            "Nền tảng đã từ chối thông tin đăng nhập. Chạy publisher auth với kênh đó "
            "để kiểm tra lại, rồi khởi động lại publisher run."
        ),
        "st.failed": "Đăng lỗi",
        "st.failed_help": (
            "Nền tảng đã từ chối các bài này (lý do ghi bên cạnh). "
            "Sửa nội dung nếu cần, rồi chạy lệnh bên phải để gửi lại."
        ),
        "st.failed_none": "Không có bài nào bị lỗi.",
        "st.unknown": "Chưa rõ kết quả",
        "st.unknown_help": (
            "Bài có thể đã lên nền tảng dù không nhận được phản hồi. Đừng gửi lại ngay: "
            "hãy mở kênh để kiểm tra, rồi ghi nhận kết quả bằng một trong hai lệnh."
        ),
        "st.unknown_if_published": "Nếu bài đã lên:",
        "st.unknown_if_not": "Nếu chưa lên:",
        "st.unknown_none": "Không có bài nào chưa rõ kết quả.",
        "st.upcoming": "Sắp đăng",
        "st.upcoming_none": "Chưa có bài nào được hẹn giờ.",
        "st.recent": "Đã đăng gần đây",
        "st.recent_none": "Chưa có bài nào được đăng.",
        "st.view_post": "Xem bài",
    },
    "en": {
        "app.name": "Pre-publication preview",
        "app.generated_at": "Updated {when}",
        "app.generated_help": "When this page was built from the workspace",
        "app.live": "Live",
        "app.live_help": "The page reloads as soon as you save a file in the workspace",
        "app.footer": (
            "Built from the exact requests each platform will receive. "
            "Platform screens are simulations."
        ),
        "app.preparing": "Preparing this page",
        "app.preparing_help": (
            "Images and each channel's post are still being made; "
            "the page reloads itself in a moment."
        ),
        "lang.other": "Tiếng Việt",
        "lang.other_code": "vi",
        "nav.label": "Main navigation",
        "nav.items": "Content",
        "nav.calendar": "Calendar",
        "nav.status": "Publishing status",
        "nav.skip": "Skip to main content",
        "nav.breadcrumb": "Breadcrumb",
        "number.thousands": ",",
        "channel.portal": "Web portal",
        "channel.facebook": "Facebook",
        "channel.zalo": "Zalo OA",
        "channel.youtube": "YouTube",
        "channel.telegram": "Telegram",
        "kind.article": "Article",
        "kind.infographic": "Infographic",
        "kind.video": "Video",
        "status.draft": "Draft",
        "status.ready": "Ready",
        "status_help.draft": "Preview only, never published (status: draft)",
        "status_help.ready": "Will be published on the calendar (status: ready)",
        "state.draft": "Draft",
        "state.ready": "Ready",
        "state.not planned": "Not planned",
        "state.planned": "Planned",
        "state.scheduled": "Scheduled",
        "state.sending": "Sending",
        "state.published": "Published",
        "state.failed": "Failed",
        "state.unknown": "Unknown",
        "state.skipped-late": "Skipped (too late)",
        "state.cancelled": "Cancelled",
        "severity.error": "Error",
        "severity.warning": "Warning",
        "count.errors": "{n} error(s)",
        "count.warnings": "{n} warning(s)",
        "index.title": "Campaign content",
        "index.lede": (
            "Check every item before it goes out: how each channel will show it, "
            "and what still needs fixing."
        ),
        "index.stat_items": "Items",
        "index.stat_errors": "Errors",
        "index.stat_warnings": "Warnings",
        "index.problems_title": "Problems reading the workspace",
        "index.problems_help": (
            "An item with an error is left out; every other item is still published. "
            "Fix the file at the line shown and save: this page updates itself."
        ),
        "index.no_next": "—",
        "index.not_on_channel": "not on this channel",
        "index.no_match": "No item matches the filters.",
        "index.no_items": "There is no item in content/ yet.",
        "col.title": "Title",
        "col.state": "State",
        "col.next": "Next post",
        "col.item": "Item",
        "col.channel": "Channel",
        "col.error": "Error",
        "col.what_happened": "What happened",
        "col.when": "When",
        "col.action": "What to do",
        "col.due": "Due",
        "col.published_at": "Published",
        "col.link": "Link",
        "filter.label": "Filter the list",
        "filter.search": "Search titles",
        "filter.search_placeholder": "Search titles (with or without diacritics)…",
        "filter.kind": "Kind",
        "filter.all_kinds": "All",
        "filter.state": "State",
        "filter.all_states": "All",
        "filter.channel": "Channel",
        "filter.all_channels": "All",
        "filter.only_problems": "Only items with problems",
        "filter.reset": "Clear filters",
        "filter.showing": "Showing {shown} of {total}",
        "legend.title": "Legend",
        "legend.errors": "errors",
        "legend.warnings": "warnings",
        "legend.click_cell": "Click a cell to see the post on that channel.",
        "legend.channels": "Channels",
        "legend.states": "States",
        "legend.days": "Days",
        "item.back": "All content",
        "item.id": "Id",
        "item.file": "File",
        "item.channels": "The item's channels",
        "item.total": "In all: {errors} error(s), {warnings} warning(s)",
        "item.total_ok": "No problems",
        "item.draft_notice": (
            "Draft: preview only. It is published on no channel until its status becomes ready."
        ),
        "item.verdict_ok": "Ready to publish",
        "item.verdict_warn": "{n} warning(s)",
        "item.verdict_blocked": "Will not be published",
        "item.blocked": "Will not be published:",
        "item.blocked_more": "(and {n} more error(s))",
        "item.counts": "Length against the limits",
        "item.over_by": "Over by {n}",
        "item.raw": "Raw request",
        "item.raw_help": "The exact requests the platform will receive, in order.",
        "item.no_mock": "No preview could be made for this channel; see the problems above.",
        "item.no_channels": "This item goes to no channel.",
        "field.message": "Post text",
        "field.message_n": "Message {n}",
        "field.title": "Title",
        "field.author": "Author",
        "field.description": "Description",
        "field.tags": "Tags",
        "field.hashtags": "Hashtags",
        "field.caption": "Photo caption",
        "field.photo": "Photo caption",
        "field.album": "Album caption",
        "unit.chars": "characters",
        "unit.bytes": "bytes",
        "unit.utf16": "characters (as Telegram counts)",
        "fb.just_now": "Just now",
        "fb.public": "Public",
        "fb.see_more": "See more",
        "fb.see_less": "See less",
        "fb.like": "Like",
        "fb.comment": "Comment",
        "fb.share": "Share",
        "zalo.official_account": "Official Account",
        "zalo.follow": "Follow",
        "zalo.like": "Like",
        "zalo.share": "Share",
        "zalo.broadcast": "Sent to followers: the message the OA's followers will receive",
        "yt.thumbnail": "Thumbnail",
        "yt.no_thumbnail": "No thumbnail: YouTube picks a frame",
        "yt.keeps_thumbnail": "The video keeps its current thumbnail",
        "yt.subscribe": "Subscribe",
        "yt.share": "Share",
        "yt.save": "Save",
        "yt.no_views": "No views yet",
        "yt.just_now": "Just now",
        "yt.show_more": "Show more",
        "yt.show_less": "Show less",
        "yt.comments": "Comments",
        "yt.add_comment": "Add a comment…",
        "yt.mode_upload": "Uploads a new video",
        "yt.mode_update": "Updates the title and description of an existing video:",
        "yt.tags": "Tags (not shown publicly):",
        "tg.channel": "public channel",
        "tg.today": "Today",
        "tg.mute": "Mute",
        "tg.pending": "Not sent yet",
        "portal.frame_title": "The article page on the portal",
        "portal.open": "Open the article page in a new tab",
        "portal.public_url": "Public address",
        "portal.help": (
            "Alongside: the article page scaled down, as a laptop shows it. "
            "The social media posts link to this address."
        ),
        "cal.title": "Publishing calendar",
        "cal.lede": (
            "Every post at its local time, coloured by channel and by state. "
            "Click a post to preview it."
        ),
        "cal.month": "{month_name} {year}",
        "month.1": "January",
        "month.2": "February",
        "month.3": "March",
        "month.4": "April",
        "month.5": "May",
        "month.6": "June",
        "month.7": "July",
        "month.8": "August",
        "month.9": "September",
        "month.10": "October",
        "month.11": "November",
        "month.12": "December",
        "cal.post_count": "{n} post(s)",
        "cal.sprint": "Sprint phase",
        "cal.blackout": "No posts",
        "cal.blackout_help": "A blackout day of the campaign",
        "cal.today": "Today",
        "cal.empty": "There is no campaign in schedules.yaml yet.",
        "weekday.mon": "Mon",
        "weekday.tue": "Tue",
        "weekday.wed": "Wed",
        "weekday.thu": "Thu",
        "weekday.fri": "Fri",
        "weekday.sat": "Sat",
        "weekday.sun": "Sun",
        "weekday_long.mon": "Monday",
        "weekday_long.tue": "Tuesday",
        "weekday_long.wed": "Wednesday",
        "weekday_long.thu": "Thursday",
        "weekday_long.fri": "Friday",
        "weekday_long.sat": "Saturday",
        "weekday_long.sun": "Sunday",
        "st.title": "Publishing status",
        "st.lede": (
            "What went out, what failed and why, what is unknown and what to do, and what is next."
        ),
        "st.counts": "Posts by state",
        "st.paused": "Paused channels",
        "st.store_problem": "The state store cannot be read: nothing is published",
        "st.since": "since {when}",
        "st.paused_advice": (
            "The platform refused the credentials. Run publisher auth for that channel "
            "to check them, then restart publisher run."
        ),
        "st.failed": "Failed",
        "st.failed_help": (
            "The platform refused these posts (reason alongside). Fix the content if "
            "needed, then run the command on the right to send it again."
        ),
        "st.failed_none": "No failed post.",
        "st.unknown": "Unknown outcome",
        "st.unknown_help": (
            "These may have reached the platform without an answer. Do not resend: "
            "check the channel, then record what you found with one of the two commands."
        ),
        "st.unknown_if_published": "If it is online:",
        "st.unknown_if_not": "If it is not:",
        "st.unknown_none": "No post with an unknown outcome.",
        "st.upcoming": "Coming up",
        "st.upcoming_none": "No post is scheduled yet.",
        "st.recent": "Recently published",
        "st.recent_none": "Nothing has been published yet.",
        "st.view_post": "View post",
    },
}


def translator(lang: str) -> Callable[[str], str]:
    """t(key): the string in `lang`, else in Vietnamese, else the key itself."""
    strings = UI_STRINGS.get(lang, UI_STRINGS[DEFAULT_LANGUAGE])
    fallback = UI_STRINGS[DEFAULT_LANGUAGE]

    def t(key: str) -> str:
        return strings.get(key) or fallback.get(key) or key

    return t
