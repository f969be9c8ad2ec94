/**
 * Chinese is the console's only language: ra-language-chinese, completed with the react-admin 5 keys
 * it lacks (a unit test checks every English key has a Chinese one), and our own wording.
 */
import polyglotI18nProvider from 'ra-i18n-polyglot';
import type { TranslationMessages } from 'react-admin';
import chinese from 'ra-language-chinese';

type Messages = { [key: string]: string | Messages };

/** react-admin 5 keys that ra-language-chinese (written for v3) does not have. */
const missing: Messages = {
  ra: {
    action: {
      clear_array_input: '清空列表',
      create_item: '新建 %{item}',
      remove_all_filters: '清除全部筛选',
      reset: '重置',
      search_columns: '搜索列',
      select_all: '全选',
      select_all_button: '全选',
      select_row: '选择此行',
      update: '更新',
      move_up: '上移',
      move_down: '下移',
      open: '打开',
      toggle_theme: '切换明暗主题',
      select_columns: '显示列',
      update_application: '重新加载',
    },
    page: { access_denied: '无权访问', authentication_error: '身份验证出错' },
    message: {
      access_denied: '您没有访问此页面的权限',
      authentication_error: '身份验证服务出错，无法核对您的登录信息。',
      auth_error: '核对登录凭证时出错。',
      bulk_update_content: '确定要更新 %{name} %{recordRepresentation} 吗？ |||| 确定要更新这 %{smart_count} 项吗？',
      bulk_update_title: '更新 %{name} %{recordRepresentation} |||| 更新 %{smart_count} 项%{name}',
      clear_array_input: '确定要清空整个列表吗？',
      details: '详情',
      select_all_limit_reached: '数量太多，只选中了前 %{max} 项。',
      placeholder_data_warning: '网络问题：数据刷新失败。',
    },
    navigation: {
      clear_filters: '清除筛选',
      no_filtered_results: '当前筛选条件下没有%{name}。',
      partial_page_range_info: '第 %{offsetBegin}-%{offsetEnd} 条，共多于 %{offsetEnd} 条',
      current_page: '第 %{page} 页',
      page: '转到第 %{page} 页',
      first: '第一页',
      last: '最后一页',
      previous: '上一页',
    },
    auth: { email: '电子邮箱' },
    notification: {
      not_authorized: '您无权访问该资源。',
      application_update_available: '系统已更新。',
      offline: '网络已断开，无法获取数据。',
    },
    validation: { unique: '不能重复' },
    saved_queries: {
      label: '已保存的查询',
      query_name: '查询名称',
      new_label: '保存当前查询…',
      new_dialog_title: '将当前查询保存为',
      remove_label: '删除已保存的查询',
      remove_label_with_name: '删除查询“%{name}”',
      remove_dialog_title: '删除已保存的查询？',
      remove_message: '确定要从查询列表中删除该项吗？',
      help: '筛选列表并保存查询以便下次使用',
    },
    guesser: { empty: { title: '没有可显示的数据', message: '请检查数据接口' } },
    configurable: {
      customize: '自定义',
      configureMode: '配置此页面',
      inspector: {
        title: '检查器',
        content: '将鼠标移到界面元素上进行配置',
        reset: '恢复默认设置',
        hideAll: '全部隐藏',
        showAll: '全部显示',
      },
      Datagrid: { title: '数据表', unlabeled: '未命名列 #%{column}' },
      SimpleForm: { title: '表单', unlabeled: '未命名输入项 #%{input}' },
      SimpleList: { title: '列表', primaryText: '主要文字', secondaryText: '次要文字', tertiaryText: '第三行文字' },
    },
  },
};

/** Our own wording where the translation reads oddly for caseworkers. */
const ours: Messages = {
  ra: {
    auth: { username: '用户名', password: '密码', sign_in: '登录', logout: '退出登录', user_menu: '个人' },
    page: { dashboard: '工作台', empty: '暂无%{name}', not_found: '没有找到该页面' },
    navigation: { no_results: '没有符合条件的记录', page_rows_per_page: '每页行数：' },
    notification: { logged_out: '登录已失效，请重新登录。', http_error: '服务器通信出错' },
  },
};

function merge(...sources: Messages[]): Messages {
  const out: Messages = {};
  for (const src of sources) {
    for (const [k, v] of Object.entries(src)) {
      const prev = out[k];
      out[k] =
        typeof v === 'object' && typeof prev === 'object' ? merge(prev, v) : typeof v === 'object' ? merge(v) : v;
    }
  }
  return out;
}

export const chineseMessages = merge(chinese as Messages, missing, ours);

export const i18nProvider = polyglotI18nProvider(
  () => chineseMessages as unknown as TranslationMessages,
  'zh',
  [{ locale: 'zh', name: '中文' }],
  {
    allowMissing: false,
  },
);
