-- demo/items: the demo park's service guides (办事指南), loaded into an empty
-- column whose binding says demo = true (guides_seed). Eleven items of
-- 招商局 (invest), 社会事务局 (social) and 人才办 (talent). Every address,
-- telephone number and web address here is made up for the demo: the
-- online links point at the example host zwfw.example.gov.cn. A material's
-- `blank_form` / `sample_form` is the title of a form the seed makes as a
-- small PDF (demo/pdf.lua).
local CENTER = "示范高新区政务服务中心（创新大道 88 号）"
local HOURS = "工作日 上午 9:00—12:00，下午 13:30—17:00（法定节假日除外）"
local ONLINE = "https://zwfw.example.gov.cn/demo/item/"

local function common(t)
  t.address = t.address or CENTER
  t.hours = t.hours or HOURS
  t.phone_complain = t.phone_complain or "0512-12345"
  t.fee = t.fee or "不收费"
  return t
end

return {
  common({
    name = "企业投资项目备案", kind = "其他行政权力", objs = { "法人" }, themes = { "投资审批" },
    unit = "invest",
    basis = { { title = "《企业投资项目核准和备案管理条例》（国务院令第673号）第十三条" },
              { title = "《企业投资项目核准和备案管理办法》（国家发展改革委令第2号）" } },
    conditions = "在园区内投资建设、不属于《政府核准的投资项目目录》范围的企业投资项目。",
    materials = {
      { name = "企业投资项目备案信息表", copies = 1, form = "原件", required = true,
        blank_form = "企业投资项目备案信息表", sample_form = "企业投资项目备案信息表（样表）" },
      { name = "营业执照", copies = 1, form = "复印件", required = true },
    },
    hall = "综合受理区", window = "1 号窗口", phone_ask = "0512-66880101",
    steps = { "登录在线办理平台，填写项目备案信息", "上传备案信息表", "系统自动赋码，即时备案",
              "网上打印备案证明" },
    legal_days = 5, promise_days = 0, runs = 0, depth = 4, online_url = ONLINE .. "tzba",
    faq = { { q = "备案后项目信息有变化怎么办？", a = "项目法人、建设地点、规模、内容发生较大变更的，应在平台上及时告知并修改备案信息。" } },
  }),
  common({
    name = "建设工程规划许可证核发", kind = "行政许可", objs = { "法人" },
    themes = { "规划建设", "投资审批" }, unit = "invest",
    basis = { { title = "《中华人民共和国城乡规划法》第四十条",
                url = "https://www.example.gov.cn/demo/law/cxghf" },
              { title = "《中华人民共和国行政许可法》" } },
    conditions = "已取得建设用地使用权、建设工程设计方案已经审查通过的建设单位。",
    materials = {
      { name = "建设工程规划许可申请表", copies = 1, form = "原件", required = true,
        blank_form = "建设工程规划许可申请表" },
      { name = "建设用地使用权证明", copies = 1, form = "原件和复印件", required = true },
      { name = "建设工程设计方案总平面图", copies = 2, form = "原件", required = true },
      { name = "委托书（委托他人办理时）", copies = 1, form = "原件", required = false },
    },
    hall = "投资项目审批区", window = "5 号窗口", phone_ask = "0512-66880105",
    steps = { "网上申报或窗口提交材料", "受理并审查", "现场核验", "审定并核发许可证", "窗口领取许可证" },
    legal_days = 20, promise_days = 10, runs = 2, depth = 3, online_url = ONLINE .. "ghxk",
    faq = { { q = "设计方案未审定能否先申请？", a = "不能。应先取得设计方案审查意见，再申请建设工程规划许可。" } },
  }),
  common({
    name = "高新技术企业认定申报受理", kind = "公共服务", objs = { "法人" },
    themes = { "科技创新", "税收财务" }, unit = "invest",
    basis = { { title = "《高新技术企业认定管理办法》（国科发火〔2016〕32号）" },
              { title = "《高新技术企业认定管理工作指引》（国科发火〔2016〕195号）" } },
    conditions = "在园区注册一年以上的居民企业，拥有核心自主知识产权，研发费用和高新技术产品收入占比符合规定。",
    materials = {
      { name = "高新技术企业认定申请书", copies = 1, form = "原件", required = true,
        blank_form = "高新技术企业认定申请书" },
      { name = "知识产权相关证明材料", copies = 1, form = "复印件", required = true },
      { name = "近三个会计年度研究开发费用专项审计报告", copies = 1, form = "原件", required = true },
    },
    hall = "企业服务区", window = "8 号窗口", phone_ask = "0512-66880108",
    steps = { "登录在线办理平台注册并填报", "上传申报材料", "园区初审并推荐", "省级认定机构评审",
              "公示并公布名单" },
    legal_days = 60, promise_days = 30, runs = 0, depth = 4, online_url = ONLINE .. "gqrd",
  }),
  common({
    name = "园区企业入驻登记", kind = "公共服务", objs = { "法人" }, themes = { "设立变更" },
    unit = "invest",
    basis = { { title = "《示范高新区企业入驻管理办法》（示高管发〔2025〕6号）" } },
    conditions = "拟在园区内租赁或购置办公、生产用房的企业。",
    materials = {
      { name = "企业入驻登记表", copies = 1, form = "原件", required = true,
        blank_form = "企业入驻登记表", sample_form = "企业入驻登记表（样表）" },
      { name = "营业执照或名称预先核准通知书", copies = 1, form = "复印件", required = true },
      { name = "房屋租赁合同", copies = 1, form = "复印件", required = true },
    },
    hall = "企业服务区", window = "9 号窗口", phone_ask = "0512-66880109",
    steps = { "网上预约或窗口取号", "提交材料", "审核登记", "发放入驻确认书" },
    legal_days = 5, promise_days = 3, runs = 1, depth = 2, online_url = ONLINE .. "rzdj",
  }),
  common({
    name = "生育登记", kind = "公共服务", objs = { "个人" }, themes = { "生育收养" },
    unit = "social",
    basis = { { title = "《中华人民共和国人口与计划生育法》" },
              { title = "《关于实施三孩生育政策的通知》（国卫人口发〔2021〕35号）" } },
    conditions = "夫妻双方或一方户籍在园区，或在园区居住并持有居住证的育龄夫妻。",
    materials = {
      { name = "夫妻双方居民身份证", copies = 1, form = "原件", required = true },
      { name = "结婚证", copies = 1, form = "原件", required = false },
      { name = "生育登记表", copies = 1, form = "原件", required = true, blank_form = "生育登记表" },
    },
    hall = "社会事务区", window = "12 号窗口", phone_ask = "0512-66880212",
    steps = { "网上填报或窗口申请", "核验信息", "当场登记并出具生育服务登记卡" },
    legal_days = 1, promise_days = 0, runs = 0, depth = 4, online_url = ONLINE .. "sydj",
    faq = { { q = "异地生育能否在园区登记？", a = "可以。在园区居住并持居住证的，可在园区办理生育登记。" },
            { q = "需要本人到场吗？", a = "不需要。可全程网上办理。" } },
  }),
  common({
    name = "城乡居民基本养老保险参保登记", kind = "公共服务", objs = { "个人" },
    themes = { "社会保障" }, unit = "social",
    basis = { { title = "《中华人民共和国社会保险法》第二十条、第二十二条" },
              { title = "《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）" } },
    conditions = "年满 16 周岁（不含在校学生），非国家机关和事业单位工作人员，不属于职工基本养老保险覆盖范围的园区户籍居民。",
    materials = {
      { name = "居民身份证或户口簿", copies = 1, form = "原件", required = true },
      { name = "城乡居民基本养老保险参保登记表", copies = 1, form = "原件", required = true,
        blank_form = "城乡居民基本养老保险参保登记表" },
    },
    hall = "社会事务区", window = "13 号窗口", phone_ask = "0512-66880213",
    steps = { "提交身份证件与登记表", "窗口核验", "录入参保信息", "告知缴费方式" },
    legal_days = 5, promise_days = 1, runs = 1, depth = 3, online_url = ONLINE .. "ylcb",
  }),
  common({
    name = "公共租赁住房资格申请", kind = "行政确认", objs = { "个人" }, themes = { "住房保障" },
    unit = "social",
    basis = { { title = "《公共租赁住房管理办法》（住房和城乡建设部令第11号）" } },
    conditions = "在园区稳定就业、本人及家庭成员在园区无自有住房的职工。",
    materials = {
      { name = "公共租赁住房申请表", copies = 1, form = "原件", required = true,
        blank_form = "公共租赁住房申请表", sample_form = "公共租赁住房申请表（样表）" },
      { name = "居民身份证", copies = 1, form = "复印件", required = true },
      { name = "劳动合同", copies = 1, form = "复印件", required = true },
      { name = "无房证明", copies = 1, form = "原件", required = true },
    },
    hall = "社会事务区", window = "14 号窗口", phone_ask = "0512-66880214",
    steps = { "提交申请", "受理并初审", "入户调查", "公示 5 个工作日", "确定资格并告知" },
    legal_days = 20, promise_days = 15, runs = 1, depth = 2,
  }),
  common({
    name = "失业登记", kind = "公共服务", objs = { "个人" }, themes = { "就业创业", "社会保障" },
    unit = "social",
    basis = { { title = "《中华人民共和国就业促进法》" },
              { title = "《就业服务与就业管理规定》（劳动和社会保障部令第28号）" } },
    conditions = "法定劳动年龄内、有劳动能力和就业要求、处于无业状态的园区常住人员。",
    materials = { { name = "居民身份证或社会保障卡", copies = 1, form = "原件", required = true } },
    hall = "社会事务区", window = "15 号窗口", phone_ask = "0512-66880215",
    steps = { "网上申请", "核验身份与就业状态", "办结并发放就业创业证电子证照" },
    legal_days = 1, promise_days = 0, runs = 0, depth = 4, online_url = ONLINE .. "sydj2",
  }),
  common({
    name = "高层次人才认定", kind = "行政确认", objs = { "个人", "法人" },
    themes = { "就业创业", "人才服务" }, unit = "talent",
    basis = { { title = "《示范高新区高层次人才认定办法》（示高管发〔2025〕12号）" } },
    conditions = "在园区企业全职工作，符合认定办法所列 A 至 E 类人才条件之一的人员。",
    materials = {
      { name = "高层次人才认定申请表", copies = 1, form = "原件", required = true,
        blank_form = "高层次人才认定申请表", sample_form = "高层次人才认定申请表（样表）" },
      { name = "学历学位证书", copies = 1, form = "复印件", required = true },
      { name = "劳动合同及社保缴纳证明", copies = 1, form = "复印件", required = true },
      { name = "获奖或业绩证明", copies = 1, form = "复印件", required = false },
    },
    hall = "人才服务区", window = "18 号窗口", phone_ask = "0512-66880318",
    steps = { "用人单位网上申报", "人才办审核", "专家评审", "公示 7 天", "发放人才认定证书" },
    legal_days = 30, promise_days = 20, runs = 1, depth = 3, online_url = ONLINE .. "rcrd",
    faq = { { q = "个人能否直接申报？", a = "须由全职工作的用人单位统一申报。" } },
  }),
  common({
    name = "人才公寓申请", kind = "公共服务", objs = { "个人" }, themes = { "住房保障" },
    unit = "talent",
    basis = { { title = "《示范高新区人才公寓管理办法》（示高管发〔2025〕9号）" } },
    conditions = "在园区企业全职工作、本人及配偶在园区无自有住房的各类人才。",
    materials = {
      { name = "人才公寓申请表", copies = 1, form = "原件", required = true,
        blank_form = "人才公寓申请表" },
      { name = "居民身份证", copies = 1, form = "复印件", required = true },
      { name = "劳动合同", copies = 1, form = "复印件", required = true },
    },
    hall = "人才服务区", window = "19 号窗口", phone_ask = "0512-66880319",
    steps = { "提交申请", "资格审核", "配租", "签订租赁合同", "办理入住" },
    legal_days = 15, promise_days = 10, runs = 1, depth = 2, fee = "按人才公寓租金标准缴纳租金",
  }),
  common({
    name = "博士后科研工作站设站申请", kind = "其他行政权力", objs = { "法人" },
    themes = { "人才服务", "科技创新" }, unit = "talent",
    basis = { { title = "《博士后管理工作规定》（国人部发〔2006〕149号）" } },
    conditions = "在园区注册、具有独立法人资格、研发机构健全并有稳定科研经费的企业。",
    materials = {
      { name = "博士后科研工作站设站申请书", copies = 2, form = "原件", required = true,
        blank_form = "博士后科研工作站设站申请书" },
      { name = "营业执照", copies = 1, form = "复印件", required = true },
    },
    hall = "人才服务区", window = "18 号窗口", phone_ask = "0512-66880318",
    steps = { "企业提交申请", "人才办初审", "报省级主管部门", "国家主管部门评审", "公布设站名单" },
    legal_days = 90, promise_days = 60, runs = 2, depth = 1,
  }),
}
